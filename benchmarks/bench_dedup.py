"""Dedup benchmark: quality on the labelled set, per-stage speed, import vs plain datasketch, start-up.

Usage: python benchmarks/bench_dedup.py [--quick] [--startup-1m] [--write]
--quick: 1,500 articles and a 100,000-article start-up database; --startup-1m: the start-up measure
over 1,000,000 stored articles (with --quick: quick import figures, 1M start-up).
--write replaces the section between the bench-dedup markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasketch import MinHash  # noqa: E402

from crawler.dedup.minhash import DedupConfig, MinHasher  # noqa: E402
from crawler.storage.database import Database  # noqa: E402
from crawler.text import matching_codepoints  # noqa: E402
from tests.dedup_eval import evalset  # noqa: E402
from benchmarks.plain_loop import plain_loop as run_plain_loop  # noqa: E402

START, END = "<!-- bench-dedup:start -->", "<!-- bench-dedup:end -->"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality(tmp: Path) -> list[str]:
    ev = evalset.build()
    db = Database.open(f"sqlite:///{tmp / 'eval.db'}")
    art = evalset.pairwise(ev.article_pairs, evalset.run_articles(db, ev.docs)[0])
    head = evalset.pairwise(ev.headline_pairs, evalset.run_headlines(db, ev.headlines))
    return [
        "| level | pairs (+/-) | precision | recall |", "| --- | --- | --- | --- |",
        f"| articles | {art['positives']}/{art['negatives']} | {art['precision']:.3f} | {art['recall']:.3f} |",
        f"| headlines | {head['positives']}/{head['negatives']} | {head['precision']:.3f} | {head['recall']:.3f} |",
    ]


def stages(texts: list[str]) -> list[str]:
    h = MinHasher(DedupConfig())
    n = len(texts)
    t0 = time.perf_counter(); norms = [matching_codepoints(t) for t in texts]
    t1 = time.perf_counter(); sh = [h.shingles(x, codepoints=c) for x, c in norms]
    t2 = time.perf_counter(); sigs = h.signatures(sh)
    t3 = time.perf_counter(); [h.band_keys(s) for s in sigs]
    t4 = time.perf_counter()
    from crawler.dedup.minhash import jaccard
    for i in range(n - 1):
        jaccard(sh[i], sh[i + 1])
    t5 = time.perf_counter()
    rows = [("normalise (crawler.text)", t1 - t0), ("shingles (word 3-grams, polynomial word hashes)", t2 - t1),
            ("signatures (numpy-batched, 128 perm)", t3 - t2), ("LSH band keys (32x4)", t4 - t3),
            ("verification (exact Jaccard, per candidate)", t5 - t4)]
    out = ["| stage | articles/s |", "| --- | --- |"]
    out += [f"| {name} | {n / max(dt, 1e-9):,.0f} |" for name, dt in rows]
    t = time.perf_counter(); MinHash.bulk([[x.to_bytes(4, "little") for x in s.tolist()] for s in sh[:500]], num_perm=128)
    out.append(f"| (for comparison) datasketch MinHash.bulk, sha1 | {500 / (time.perf_counter() - t):,.0f} |")
    return out


def plain_loop(texts: list[str]) -> float:
    """Articles per second of the plain datasketch loop (benchmarks/plain_loop.py), timed alone."""
    t = time.perf_counter()
    run_plain_loop(texts)
    return len(texts) / (time.perf_counter() - t)


def import_rate(lines: list[str], tmp: Path, run: int = 0, url: str | None = None) -> tuple[float, dict]:
    """``import`` end to end into a new SQLite database (or *url*), with the project settings the CLI uses."""
    from crawler.storage.importer import import_jsonl
    from crawler.commands.runner import project_settings

    src = tmp / "in.jsonl"
    src.write_text("".join(lines), encoding="utf-8")
    db = Database.open(url or f"sqlite:///{tmp / f'import{run}.db'}")
    t = time.perf_counter()
    counts = import_jsonl(src, db, site=None, settings=project_settings())
    rate = len(lines) / (time.perf_counter() - t)
    db.close()
    return rate, counts


def side_by_side(
    n: int, tmp: Path, rounds: int, corpus: Path = evalset.CORPUS,
) -> tuple[list[float], list[float], dict]:
    """Plain loop and import on the same first *n* articles, alternated *rounds* times (the machine is
    shared: each path gets the same chance of a quiet moment). Each run is a fresh Python process, as
    ``python -m crawler import`` is, timed from its first article to its last (interpreter start-up
    and imports excluded for both); returns both rate lists and the import counts."""
    plain, imp, counts = [], [], {}
    for r in range(rounds):
        for what, rates in (("plain", plain), ("import", imp)):
            out = subprocess.run(
                [sys.executable, __file__, "--one", what, "--n", str(n), "--tmp", str(tmp / f"{corpus.stem}-{what}{r}"),
                 "--corpus", str(corpus)],
                capture_output=True, text=True, check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rates.append(result["rate"])
            counts = result.get("counts", counts)
    return plain, imp, counts


SHORT_CORPUS = evalset.CORPUS.parent / "ant-jawharafm.jsonl"


def short_articles(tmp: Path, n: int, rounds: int) -> list[str]:
    """The same side-by-side measure on a corpus of short articles (Jawhara FM, ANT corpus)."""
    if not SHORT_CORPUS.is_file():
        return [f"(short-article measure skipped: {SHORT_CORPUS} is absent)", ""]
    lines = SHORT_CORPUS.read_text(encoding="utf-8").splitlines()[:n]
    chars = sum(len("\n".join(json.loads(x)["paragraphs"])) for x in lines) / len(lines)
    plains, rates, _counts = side_by_side(len(lines), tmp, rounds, SHORT_CORPUS)
    return [
        f"#### Short articles: ../shared/corpus/{SHORT_CORPUS.name} (first {len(lines):,} articles, "
        f"{chars:,.0f} characters on average), {rounds} alternated rounds", "",
        "| path | articles/s |", "| --- | --- |",
        f"| plain datasketch loop | {max(plains):,.0f} ({', '.join(f'{x:,.0f}' for x in plains)}) |",
        f"| `import` end to end | {max(rates):,.0f} ({', '.join(f'{x:,.0f}' for x in rates)}) |",
        f"| ratio (best / best) | {max(rates) / max(plains):.1f}x |", "",
        "The plain loop's cost grows with the length of an article (one `MinHash.update` per word); "
        "`import` has a floor per article in its one serial stage (the article row, its 32 band rows, its "
        "headline rows and their look-ups: about 0.2 ms), so the ratio falls with shorter articles.", "",
    ]


def postgres_import(n: int, tmp: Path, rounds: int = 2) -> list[str]:
    """``import`` of the same articles into a fresh local PostgreSQL database (when a server answers)."""
    import pytest

    from tests.support.pg import pg_database

    rates = []
    for r in range(rounds):
        try:
            with pg_database() as url:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", "import", "--n", str(n), "--tmp", str(tmp / f"pg{r}"),
                     "--db", url],
                    capture_output=True, text=True, check=True,
                )
        except pytest.skip.Exception as exc:  # no server here
            return [f"| `import` into PostgreSQL | not measured: {str(exc).splitlines()[0]} |"]
        rates.append(json.loads(out.stdout.strip().splitlines()[-1])["rate"])
    return [f"| for reference: `import` end to end into PostgreSQL (local server, same machine, same settings) "
            f"| {max(rates):,.0f} ({', '.join(f'{x:,.0f}' for x in rates)}) |"]


def one_run(what: str, n: int, tmp: Path, corpus: Path, url: str | None = None) -> None:
    """The child of :func:`side_by_side`: one path, one JSON line on stdout."""
    tmp.mkdir(parents=True, exist_ok=True)
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)[:n]
    if what == "plain":
        result = {"rate": plain_loop(["\n".join(json.loads(x)["paragraphs"]) for x in lines])}
    else:
        rate, counts = import_rate(lines, tmp, url=url)
        result = {"rate": rate, "counts": counts}
    print(json.dumps(result, ensure_ascii=False))


def _import_setup() -> str:
    from crawler.commands.runner import project_settings

    st = project_settings()
    return (f"{st.getint('IMPORT_WORKERS')} worker processes, batches of {st.getint('IMPORT_BATCH_SIZE')}, "
            f"chunks of {min(st.getint('IMPORT_BATCH_SIZE'), st.getint('IMPORT_CHUNK_SIZE'))}")


STARTUP = r"""
import time
t_start = int(time.time() * 1000)
import sys, resource, statistics
sys.path.insert(0, {root!r})
from datetime import UTC, datetime
from crawler.commands.runner import project_settings
from crawler.stats import CounterStats
from crawler.items import ArticleItem
from crawler.storage.database import Database
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
db = Database.open({url!r})
stats = CounterStats()
settings = project_settings()
dedup, store = DedupPipeline.build(settings, stats, db), StorePipeline.build(settings, stats, db)
dedup.open_spider(); store.open_spider()
import random
rnd = random.Random(t_start)
def item(i):  # a distinct synthetic story per item (400 words of a 5,000-word vocabulary)
    text = " ".join(f"كلمة{{rnd.randrange(5000)}}" for _ in range(400))
    return ArticleItem(url=f"https://q{{t_start}}.example/{{i}}", site="q", fetched_at=datetime.now(UTC),
                       title=f"عنوان {{i}} " + text[:40], text=text)
store.process_item(dedup.process_item(item(0)))
t_first = time.time()
lat = []
for i in range(1, 201):
    t = time.perf_counter(); store.process_item(dedup.process_item(item(i))); lat.append(time.perf_counter() - t)
store.close_spider()
def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss would include the parent's RSS
    # at fork time (Linux keeps it across exec).
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(t_first, peak_mb(), statistics.median(lat) * 1000, stats.get_value("dedup/candidates", 0))
"""


def fill_synthetic(path: Path, n: int, cfg: DedupConfig) -> float:
    """Fill *path* with *n* synthetic stored articles and their index rows; returns seconds.

    Synthetic: short texts, random 32-bit signatures (with the real config tag)
    and random 64-bit band keys; rows are written with plain sqlite3
    ``executemany`` in key order (journal off while filling, WAL after).
    """
    import sqlite3

    import numpy as np

    from crawler.dedup.index import check_config

    db = Database.open(f"sqlite:///{path}")
    check_config(db, "articles", cfg.fingerprint)
    db.close()
    hasher = MinHasher(cfg)
    rng = np.random.default_rng(1)
    t = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    docs = np.sort(rng.integers(-2**63, 2**63 - 1, n, dtype=np.int64))
    when = "2025-01-01 00:00:00.000000"
    step = 50_000
    for start in range(0, n, step):
        part = docs[start:start + step].tolist()
        sigs = rng.integers(0, 2**32, (len(part), cfg.num_perm), dtype=np.uint32)
        con.executemany(
            "INSERT INTO articles (url, site, title, text, published_at, authors, tags, related_headlines, fetched_at,"
            " updated_at, content_hash, signature, cluster_id) VALUES (?,?,?,?,?,'[]','[]','[]',?,?,?,?,?)",
            [(f"https://s{i % 50}.example/{start + i}", f"s{i % 50}", f"عنوان {start + i}", f"نص اصطناعي رقم {start + i}",
              "2025-01-01", when, when, f"{d & 0xFFFFFFFFFFFFFFFF:032x}", hasher.encode(sig), f"a{d & 0xFFFFFFFFFFFFFFFF:016x}")
             for i, (d, sig) in enumerate(zip(part, sigs))],
        )
        con.executemany(
            "INSERT INTO dedup_docs (doc, url, content_hash, cluster_id, created_at) VALUES (?,?,?,?,?)",
            [(d, f"https://s{i % 50}.example/{start + i}", f"{d & 0xFFFFFFFFFFFFFFFF:032x}",
              f"a{d & 0xFFFFFFFFFFFFFFFF:016x}", when) for i, d in enumerate(part)],
        )
    con.commit()
    keys = rng.integers(-2**63, 2**63 - 1, n * cfg.bands, dtype=np.int64)
    owners = np.repeat(docs, cfg.bands)
    order = np.argsort(keys, kind="stable")
    keys, owners = keys[order], owners[order]
    step = 2_000_000
    for start in range(0, keys.size, step):
        con.executemany("INSERT OR IGNORE INTO dedup_bands (key, doc) VALUES (?,?)",
                        zip(keys[start:start + step].tolist(), owners[start:start + step].tolist()))
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return time.perf_counter() - t


def startup(n: int, tmp: Path) -> list[str]:
    """Start-up of a crawl's dedup over *n* stored synthetic articles, measured in a new process."""
    cfg = DedupConfig()
    path = tmp / "big.db"
    fill = fill_synthetic(path, n, cfg)
    url = f"sqlite:///{path}"
    code = STARTUP.format(root=str(ROOT), url=url)
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    t_first, mem, per_item, cands = out.stdout.split()
    secs = float(t_first) - t0
    size = path.stat().st_size / 2**20
    return [f"| stored articles (synthetic: short texts, random signatures, {cfg.bands} random band keys each) | {n:,} |",
            f"| fill time (sqlite3 executemany, key order) | {fill:.0f} s |", f"| database size | {size:,.0f} MB |",
            "| process start -> first item served (python start, imports, open db + migrations check, "
            f"DedupPipeline/StorePipeline.open_spider, first item deduplicated and stored) | {secs:.2f} s |",
            f"| peak memory of that process (RSS, incl. 200 more items) | {float(mem):.0f} MB |",
            f"| one item's latency after start-up (dedup + store, one item per transaction; median of 200) | {float(per_item):.1f} ms |"]


def write_section(text: str, mode: str) -> None:
    """Replace this mode's block (quick / full) inside the bench-dedup section of docs/benchmarks.md."""
    doc = ROOT / "docs" / "benchmarks.md"
    old = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if not (START in old and END in old):
        old = old.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = old.split(START, 1)
    body, tail = rest.split(END, 1)
    blocks = {}
    for name in ("full", "quick"):
        b_start, b_end = f"<!-- bench-dedup-{name}:start -->", f"<!-- bench-dedup-{name}:end -->"
        if b_start in body and b_end in body:
            blocks[name] = body[body.index(b_start) + len(b_start): body.index(b_end)].strip("\n")
    blocks[mode] = text
    inner = "\n\n".join(
        f"<!-- bench-dedup-{name}:start -->\n{blocks[name]}\n<!-- bench-dedup-{name}:end -->"
        for name in ("full", "quick") if name in blocks
    )
    doc.write_text(f"{head}{START}\n{inner}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, < 2 min")
    ap.add_argument("--startup-1m", dest="startup_1m", action="store_true",
                    help="the start-up measure over 1,000,000 stored articles (fills a ~2 GB SQLite file)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--one", choices=("plain", "import"), help=argparse.SUPPRESS)  # one side_by_side run
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, default=evalset.CORPUS, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one_run(args.one, args.n, args.tmp, args.corpus, args.db)
        return
    if not evalset.available():
        sys.exit(f"{evalset.CORPUS} is absent")
    n_import = 1500 if args.quick else 6222
    n_start = 1_000_000 if args.startup_1m else (100_000 if args.quick else 1_000_000)
    lines = evalset.CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)[:n_import]
    texts = ["\n".join(json.loads(x)["paragraphs"]) for x in lines]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        q = quality(tmp)
        st = stages(texts)
        rounds = 3
        plains, rates, counts = side_by_side(n_import, tmp, rounds)
        plain, rate = max(plains), max(rates)
        pg = postgres_import(n_import, tmp)
        short = short_articles(tmp, 3000 if args.quick else 10_134, rounds=2)
        su = startup(n_start, tmp)
    cmd = "python benchmarks/bench_dedup.py" + (" --quick" if args.quick else "") + (" --startup-1m" if args.startup_1m else "")
    md = [
        f"Command: `{cmd}`; machine: 2 cores (shared with other jobs while measured); data: "
        f"../shared/corpus/saudinewsnet-2015-07-21_23.jsonl (first {n_import:,} articles, "
        f"{sum(map(len, texts)) / len(texts):,.0f} characters on average) "
        "and the labelled set in tests/dedup_eval (real wire-copy pairs, generated syndicated copies, hard negatives).", "",
        "### Quality (pairwise, labelled set)", "", *q, "",
        "### Speed per stage (one core)", "", *st, "",
        f"### Import vs plain datasketch (the same {n_import:,} articles, one run)", "",
        f"Both paths run {rounds} times, alternated (plain, import, plain, import, ...), each run in a fresh Python "
        "process (as `python -m crawler import` is) and timed from its first article to its last; the table "
        "gives the best run of each and all runs in brackets.", "",
        "| path | articles/s |", "| --- | --- |",
        f"| plain datasketch loop: MinHash.update per word 3-gram (sha1), LSH query + insert, no cleaning, no storage "
        f"| {plain:,.0f} ({', '.join(f'{x:,.0f}' for x in plains)}) |",
        f"| `import` end to end: parse, CleanPipeline, DedupPipeline, StorePipeline (SQLite, new database), "
        f"project settings as `python -m crawler import` ({_import_setup()}) | {rate:,.0f} ({', '.join(f'{x:,.0f}' for x in rates)}) |",
        f"| ratio (best / best) | {rate / plain:.1f}x |",
        *pg, "",
        f"Import counts: {json.dumps(counts, ensure_ascii=False)}", "",
        *short,
        "### Start-up with a large stored corpus (database-resident band index)", "",
        "| measure | value |", "| --- | --- |", *su, "",
        f"Benchmark process peak RSS: {rss_mb():.0f} MB.",
    ]
    text = "\n".join(md)
    print(text)
    if args.write:
        write_section(text, "quick" if args.quick else "full")


if __name__ == "__main__":
    main()
