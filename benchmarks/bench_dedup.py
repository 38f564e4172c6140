"""Dedup benchmark: quality on the labelled set, per-stage speed, import vs plain datasketch, start-up.

Usage: python benchmarks/bench_dedup.py [--quick] [--write]
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

from datasketch import MinHash, MinHashLSH  # noqa: E402
from scrapy.settings import Settings  # noqa: E402

from crawler.dedup import DedupConfig, MinHasher  # noqa: E402
from crawler.storage import Database  # noqa: E402
from crawler.text import normalize_for_matching  # noqa: E402
from tests.dedup_eval import evalset  # noqa: E402

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
    t0 = time.perf_counter(); norms = [normalize_for_matching(t) for t in texts]
    t1 = time.perf_counter(); sh = [h.shingles(x, normalized=True) for x in norms]
    t2 = time.perf_counter(); sigs = h.signatures(sh)
    t3 = time.perf_counter(); [h.band_keys(s) for s in sigs]
    t4 = time.perf_counter()
    from crawler.dedup import jaccard
    for i in range(n - 1):
        jaccard(sh[i], sh[i + 1])
    t5 = time.perf_counter()
    rows = [("normalise (crawler.text)", t1 - t0), ("shingles (word 3-grams, xxh64)", t2 - t1),
            ("signatures (numpy-batched, 128 perm)", t3 - t2), ("LSH band keys (32x4)", t4 - t3),
            ("verification (exact Jaccard, per candidate)", t5 - t4)]
    out = ["| stage | articles/s |", "| --- | --- |"]
    out += [f"| {name} | {n / max(dt, 1e-9):,.0f} |" for name, dt in rows]
    t = time.perf_counter(); MinHash.bulk([[x.to_bytes(4, "little") for x in s.tolist()] for s in sh[:500]], num_perm=128)
    out.append(f"| (for comparison) datasketch MinHash.bulk, sha1 | {500 / (time.perf_counter() - t):,.0f} |")
    return out


def plain_loop(texts: list[str]) -> float:
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    t = time.perf_counter()
    for i, x in enumerate(texts):
        w = x.split()
        m = MinHash(num_perm=128)
        for j in range(max(1, len(w) - 2)):
            m.update(" ".join(w[j:j + 3]).encode("utf-8"))
        lsh.query(m)
        lsh.insert(i, m)
    return len(texts) / (time.perf_counter() - t)


def import_rate(lines: list[str], tmp: Path) -> tuple[float, dict]:
    from crawler.importer import import_jsonl

    src = tmp / "in.jsonl"
    src.write_text("".join(lines), encoding="utf-8")
    db = Database.open(f"sqlite:///{tmp / 'import.db'}")
    t = time.perf_counter()
    counts = import_jsonl(src, db, site=None, settings=Settings())
    return len(lines) / (time.perf_counter() - t), counts


STARTUP = r"""
import sys, time, resource
t = time.perf_counter()
sys.path.insert(0, {root!r})
from scrapy.settings import Settings
from crawler.counters import CounterStats
from crawler.storage import Database
from pipelines.dedup import DedupPipeline
db = Database.open({url!r})
p = DedupPipeline.build(Settings(), CounterStats(), db); p.open_spider()
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def startup(n: int, tmp: Path) -> list[str]:
    """Start-up of a pipeline over *n* stored articles' index rows (synthetic signatures)."""
    import numpy as np

    from crawler.dedup_store import check_config
    url = f"sqlite:///{tmp / 'big.db'}"
    db = Database.open(url)
    cfg = DedupConfig()
    check_config(db, "articles", cfg.fingerprint)
    rng = np.random.default_rng(1)
    t = time.perf_counter()
    raw = db.engine.raw_connection()
    cur = raw.cursor()
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        docs = rng.integers(-2**63, 2**63 - 1, m, dtype=np.int64)
        cur.executemany("INSERT INTO dedup_docs VALUES (?,?,?,?,?)",
                        [(int(d), f"https://s.example/{start + i}", f"{d:x}", f"a{d:x}", "2025-01-01 00:00:00.000000")
                         for i, d in enumerate(docs)])
        keys = rng.integers(-2**63, 2**63 - 1, (m, cfg.bands), dtype=np.int64)
        cur.executemany("INSERT OR IGNORE INTO dedup_bands VALUES (?,?)",
                        ((int(k), int(d)) for d, row in zip(docs, keys) for k in row))
        raw.commit()
    fill = time.perf_counter() - t
    raw.close()
    out = subprocess.run([sys.executable, "-c", STARTUP.format(root=str(ROOT), url=url)], capture_output=True, text=True, check=True)
    secs, mem = map(float, out.stdout.split())
    db2 = Database.open(url)
    from pipelines.dedup import DedupPipeline
    from crawler.counters import CounterStats
    from crawler.items import ArticleItem
    from datetime import UTC, datetime
    p = DedupPipeline.build(Settings(), CounterStats(), db2)
    p.open_spider()
    text = " ".join(f"كلمة{i % 97} نص{i % 13}" for i in range(400))
    t = time.perf_counter()
    for i in range(200):
        p.process_item(ArticleItem(url=f"https://q.example/{i}", site="q", fetched_at=datetime.now(UTC), title="t", text=text + str(i)))
    per_item = (time.perf_counter() - t) / 200 * 1000
    size = (tmp / "big.db").stat().st_size / 2**20
    return [f"| stored articles (synthetic index rows: {cfg.bands} band keys each) | {n:,} |",
            f"| index fill time | {fill:.0f} s |", f"| database size | {size:,.0f} MB |",
            f"| pipeline start-up (new process: import, open db, check config) | {secs:.2f} s |",
            f"| start-up peak memory (RSS) | {mem:.0f} MB |",
            f"| per-item dedup, one item per transaction, on this index | {per_item:.1f} ms |"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, < 60 s")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    if not evalset.available():
        sys.exit(f"{evalset.CORPUS} is absent")
    n_import, n_plain, n_start = (1500, 300, 100_000) if args.quick else (6222, 1000, 1_000_000)
    lines = evalset.CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)[:n_import]
    texts = ["\n".join(json.loads(x)["paragraphs"]) for x in lines]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        q = quality(tmp)
        st = stages(texts)
        plain = plain_loop(texts[:n_plain])
        rate, counts = import_rate(lines, tmp)
        su = startup(n_start, tmp)
    cmd = "python benchmarks/bench_dedup.py" + (" --quick" if args.quick else "")
    md = [
        f"Command: `{cmd}`; machine: 2 cores (shared with other jobs while measured); data: "
        f"../shared/corpus/saudinewsnet-2015-07-21_23.jsonl (first {n_import:,} articles, ~2,400 characters each) "
        "and the labelled set in tests/dedup_eval (real wire-copy pairs, generated syndicated copies, hard negatives).", "",
        "### Quality (pairwise, labelled set)", "", *q, "",
        "### Speed per stage (one core)", "", *st, "",
        "### Import vs plain datasketch (same articles, one run)", "",
        "| path | articles/s |", "| --- | --- |",
        f"| plain datasketch loop: MinHash.update per word 3-gram (sha1), LSH query + insert, no storage | {plain:,.0f} |",
        f"| `import` end to end: parse, CleanPipeline, DedupPipeline, StorePipeline (SQLite), 2 worker processes | {rate:,.0f} |",
        f"| ratio | {rate / plain:.1f}x |", "",
        f"Import counts: {json.dumps(counts, ensure_ascii=False)}", "",
        "### Start-up with a large stored corpus (database-resident band index)", "",
        "| measure | value |", "| --- | --- |", *su, "",
        f"Benchmark process peak RSS: {rss_mb():.0f} MB.",
    ]
    text = "\n".join(md)
    print(text)
    if args.write:
        doc = ROOT / "docs" / "benchmarks.md"
        old = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
        if START in old and END in old:
            new = old[: old.index(START)] + f"{START}\n{text}\n{END}" + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + f"\n\n{START}\n{text}\n{END}\n"
        doc.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
