"""`serve` benchmark: response times of its pages over a large synthetic corpus, through real HTTP.

Usage: python benchmarks/bench_serve.py [--n 1000000] [--keep PATH] [--write]

The database is built by bench_dedup's start-up builder (``fill_synthetic``:
articles with signatures and LSH band rows), then given what the pages read:
texts and titles drawn from an Arabic vocabulary (Zipf-distributed, so some
words are in a third of the articles and some in a few hundred), publication
days spread over three years, stories of three copies for one article in ten
(with merge records), a headline per title plus one related headline per page,
and 100 crawl runs over 50 sources. The search index is then built by the
project's own code (``crawler.storage.search.backfill``, what migration 0004
runs). ``python -m crawler serve --cache-seconds 0`` is started on the file
(read-only, every overview recomputed) and each page is requested over HTTP:
the first request, then the median and the slowest of 10 more.
--write replaces the section between the bench-serve markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.dedup.minhash import DedupConfig  # noqa: E402
from crawler.storage import search  # noqa: E402
from crawler.storage.database import Database  # noqa: E402

START, END = "<!-- bench-serve:start -->", "<!-- bench-serve:end -->"
SITES = 50
WORDS, TITLE_WORDS = 80, 8
YEARS_DAYS = 1095


def _bench_dedup():  # noqa: ANN202 - the sibling benchmark module, for its builder
    spec = importlib.util.spec_from_file_location("bench_dedup", ROOT / "benchmarks" / "bench_dedup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def vocabulary() -> list[str]:
    """The distinct Arabic words of the demo's sample texts (about 2,500), in a fixed order."""
    import crawler.demo.texts as texts

    return sorted(set(re.findall(r"[\u0621-\u064a]{2,}", inspect.getsource(texts))))


def enrich(path: Path, n: int, vocab: list[str], seed: int = 7) -> float:
    """Texts, titles, dates, 3-copy stories, merges, headlines and runs for the *n* filled articles."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, len(vocab) + 1)
    p = 1 / ranks**1.1
    p /= p.sum()
    words = np.array(vocab, dtype=object)
    t = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    base = np.datetime64("today") - YEARS_DAYS + 1  # the last three years, ending today
    step = 50_000
    variant = 0
    for start in range(1, n + 1, step):
        ids = list(range(start, min(start + step, n + 1)))
        idx = rng.choice(len(vocab), size=(len(ids), WORDS + TITLE_WORDS), p=p)
        updates, merges, variants, occurrences = [], [], [], []
        ref_text: dict[int, list[str]] = {}
        for row, i in zip(idx, ids):
            ref = i - (i % 10) if i % 10 in (1, 2) and i - (i % 10) >= 1 else i
            toks = list(words[row])
            if ref != i and ref in ref_text:  # a copy: the reference's words with a few changed
                toks = list(ref_text[ref])
                for k in rng.integers(0, len(toks), 4):
                    toks[k] = vocab[int(rng.integers(len(vocab)))]
            else:
                ref_text[i] = toks
            day = str(base + int((i - 1) * YEARS_DAYS // n))
            title, body = " ".join(toks[:TITLE_WORDS]), " ".join(toks[TITLE_WORDS:])
            url = f"https://s{(i - 1) % SITES}.example/{i - 1}"
            updates.append((title, body, day, f"c{ref}", f"s{(i - 1) % SITES}", i))
            if ref != i:
                merges.append(("article", url, f"https://s{(ref - 1) % SITES}.example/{ref - 1}", f"c{ref}",
                               "minhash", 0.82, None, f"{day} 12:00:00.000000"))
            variant += 1
            variants.append((variant, variant, f"h{ref}", title, title, f"{day} 12:00:00.000000"))
            occurrences.append((url, "title", 0, variant, url, f"{day} 12:00:00.000000"))
            other = int(rng.integers(1, max(i, 2)))
            occurrences.append((url, "related", 1, int(rng.integers(1, variant + 1)),
                                f"https://s{(other - 1) % SITES}.example/{other - 1}", f"{day} 12:00:00.000000"))
        con.executemany("UPDATE articles SET title=?, text=?, published_at=?, cluster_id=?, site=? WHERE id=?", updates)
        con.executemany("INSERT INTO merges (kind, member, matched, cluster_id, method, score, config, created_at) "
                        "VALUES (?,?,?,?,?,?,?,?)", merges)
        con.executemany("INSERT INTO headline_variants (variant, key_id, cluster_id, text, key, created_at) "
                        "VALUES (?,?,?,?,?,?)", variants)
        con.executemany("INSERT OR IGNORE INTO headline_occurrences (page_url, kind, pos, variant, url, created_at) "
                        "VALUES (?,?,?,?,?,?)", occurrences)
    per_source = {f"s{k}": {"pages_fetched": 120, "articles_stored": 100, "skipped_stored": 10, "not_modified": 2,
                            "dropped": 8, "errors": 0, "articles_seen": 100} for k in range(SITES)}
    con.executemany(
        "INSERT INTO crawl_runs (started_at, finished_at, status, finish_reason, pid, host, pages_fetched,"
        " articles_stored, duplicates_merged, per_source, errors, stats) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(f"2025-12-{1 + r % 28:02d} 0{r % 10}:00:00.000000", f"2025-12-{1 + r % 28:02d} 0{r % 10}:20:00.000000",
          "finished", "finished", 1000 + r, "bench", 6000, 5000, 500, json.dumps(per_source), "[]", "{}")
         for r in range(100)],
    )
    con.commit()
    con.close()
    return time.perf_counter() - t


def build_index(path: Path) -> float:
    """The search index of every stored article, by the project's backfill (as migration 0004)."""
    db = Database.open(f"sqlite:///{path}")
    t = time.perf_counter()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO article_search (article_search) VALUES ('delete-all')")  # contentless FTS5
        search.backfill(conn, chunk=5000)
    db.close()
    return time.perf_counter() - t


CORPUS = ROOT.parent / "shared" / "corpus" / "saudinewsnet-2015-07-21_23.jsonl"


def index_cost(n: int = 3000) -> list[str]:
    """What the writer's search rows cost per article: the matching form, then the FTS5 insert (batches of 50)."""
    if CORPUS.is_file():
        recs = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines()[:n]]
        arts = [{"id": i + 1, "site": "s", "title": r.get("title", ""), "text": "\n".join(r["paragraphs"]),
                 "published_at": "2015-07-21", "fetched_at": None} for i, r in enumerate(recs)]
        what = f"the first {len(arts):,} articles of ../shared/corpus/{CORPUS.name}"
    else:
        vocab = vocabulary()
        arts = [{"id": i + 1, "site": "s", "title": " ".join(vocab[i % 100:i % 100 + 8]),
                 "text": " ".join(vocab[(i * 7 + k) % len(vocab)] for k in range(300)), "published_at": "2015-07-21",
                 "fetched_at": None} for i in range(n)]
        what = f"{n:,} synthetic articles of 300 words"
    chars = sum(len(a["text"]) for a in arts) / len(arts)
    best = (float("inf"), float("inf"))
    for _ in range(3):
        with tempfile.TemporaryDirectory() as d:
            db = Database.open(f"sqlite:///{d}/cost.db")
            t0 = time.perf_counter()
            rows = search.index_rows(arts)
            t1 = time.perf_counter()
            with db.engine.begin() as conn:
                for i in range(0, len(rows), 50):
                    search.write_rows(conn, rows[i:i + 50])
            t2 = time.perf_counter()
            db.close()
        best = (min(best[0], t1 - t0), min(best[1], t2 - t1))
    per = [x / len(arts) * 1000 for x in best]
    return [f"What the search index adds to each stored article (the writer's share, best of 3, {what}, "
            f"{chars:,.0f} characters on average): matching form {per[0]:.2f} ms, FTS5 insert {per[1]:.2f} ms, "
            f"{per[0] + per[1]:.2f} ms in all."]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[float, int, int]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:  # noqa: S310 - loopback only
        body = r.read()
        status = r.status
    return time.perf_counter() - t, status, len(body)


def measure(path: Path, vocab: list[str], rounds: int = 10) -> list[str]:
    port = free_port()
    url = f"sqlite:///{path}"
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "serve", "--db", url, "--port", str(port),
                             "--cache-seconds", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                get(base + "/static/style.css")
                break
            except OSError:
                time.sleep(0.1)
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        mid = con.execute("SELECT max(id) / 2 FROM articles").fetchone()[0]
        cluster = con.execute("SELECT cluster_id FROM articles WHERE id >= ? AND id % 10 = 0 LIMIT 1",
                              (mid,)).fetchone()[0]
        con.close()
        q = urllib.parse.quote
        common, middle, rare = vocab_by_rank(vocab)
        pages = [
            ("`/` (counts, chart, health, runs; nothing cached)", "/"),
            (f"`/articles?q=` a common word (rank 1 of {len(vocab):,})", f"/articles?q={q(common[0])}"),
            ("`/articles?q=` a common word, page 2 (`before=`)", None),
            ("`/articles?q=` a mid-frequency word (rank 300)", f"/articles?q={q(middle)}"),
            (f"`/articles?q=` a rare word (rank {len(vocab):,})", f"/articles?q={q(rare)}"),
            ("`/articles?q=` two words (ranks 1 and 300)", f"/articles?q={q(common[0] + ' ' + middle)}"),
            ("`/articles?q=...&site=` a common word in one of 50 sources", f"/articles?q={q(common[0])}&site=s7"),
            ("`/clusters/<id>` (3 copies, diffs, why explanations)", f"/clusters/{cluster}"),
            ("`/headlines` (last 30 days: a range of the created_at index)", "/headlines"),
            ("`/headlines?days=90` (the longest window)", "/headlines?days=90"),
            ("`/api/stats`", "/api/stats"),
        ]
        rows = ["| page | first request | median of 10 | slowest of 10 | size |", "| --- | --- | --- | --- | --- |"]
        for label, path_q in pages:
            if path_q is None:  # the next page of the previous search
                _, _, _ = get(base + pages[1][1])
                with urllib.request.urlopen(base + pages[1][1]) as r:  # noqa: S310
                    m = re.search(r'href="(/articles\?[^"]*before=\d+)"', r.read().decode())
                path_q = m.group(1).replace("&amp;", "&") if m else pages[1][1]
            first, status, size = get(base + path_q)
            if status != 200:
                raise SystemExit(f"{path_q}: HTTP {status}")
            times = [get(base + path_q)[0] for _ in range(rounds)]
            rows.append(f"| {label} | {first * 1000:,.0f} ms | {statistics.median(times) * 1000:,.0f} ms | "
                        f"{max(times) * 1000:,.0f} ms | {size / 1024:,.0f} KiB |")
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def vocab_by_rank(vocab: list[str]) -> tuple[list[str], str, str]:
    return vocab[:1], vocab[299], vocab[-1]


def write_section(text: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    old = doc.read_text(encoding="utf-8")
    if START in old and END in old:
        head, rest = old.split(START, 1)
        tail = rest.split(END, 1)[1]
        doc.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    else:
        doc.write_text(old.rstrip("\n") + f"\n\n## Web page (`make bench-serve`)\n\n{START}\n{text}\n{END}\n",
                       encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="stored articles (default 1,000,000)")
    ap.add_argument("--keep", type=Path, default=None, help="build (or reuse) the database at PATH and keep it")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    vocab = vocabulary()
    with tempfile.TemporaryDirectory() as d:
        path = args.keep or Path(d) / "serve.db"
        sidecar = path.with_name(path.name + ".build.json")  # the build times of a kept database
        if path.exists() and not sidecar.exists():  # a build that did not finish
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
        built = json.loads(sidecar.read_text()) if sidecar.exists() else []
        if not path.exists():
            cfg = DedupConfig()
            fill = _bench_dedup().fill_synthetic(path, args.n, cfg)
            print(f"filled in {fill:.0f} s", file=sys.stderr, flush=True)
            extra = enrich(path, args.n, vocab)
            print(f"enriched in {extra:.0f} s", file=sys.stderr, flush=True)
            index = build_index(path)
            print(f"indexed in {index:.0f} s", file=sys.stderr, flush=True)
            built = [f"| fill (bench_dedup's start-up builder) | {fill:,.0f} s |",
                     f"| texts, titles, dates, stories, merges, headlines, runs | {extra:,.0f} s |",
                     f"| search index (crawler.storage.search.backfill, as migration 0003) | {index:,.0f} s |"]
            sidecar.write_text(json.dumps(built, ensure_ascii=False))
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
        con = sqlite3.connect(path)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
                  for t in ("articles", "merges", "headline_variants", "headline_occurrences", "crawl_runs")}
        con.close()
        Database.open(f"sqlite:///{path}").close()  # a kept database: upgraded to the latest schema
        cost = index_cost()
        load_before = os.getloadavg()[0]
        rows = measure(path, vocab)
        load_after = os.getloadavg()[0]
    md = [
        f"Command: `python benchmarks/bench_serve.py{'' if args.n == 1_000_000 else f' --n {args.n}'}` "
        "(`make bench-serve`); machine: 2 cores shared with other jobs while measured; SQLite, opened read-only "
        "by `python -m crawler serve --cache-seconds 0` (every overview recomputed), requests over HTTP on "
        "loopback, one at a time; the operating system's file cache warm (the database was just built). "
        f"Load average (1 min) {load_before:.1f} before the requests and {load_after:.1f} after: other jobs "
        "shared the 2 cores, so these are upper bounds.", "",
        "Data: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
        + f"; {WORDS} words of text and {TITLE_WORDS} of title per article, drawn (Zipf, s=1.1) from the "
        f"{len(vocab):,} Arabic words of the demo's texts; publication days over {YEARS_DAYS} days; 50 sources; "
        f"database {size:,.0f} MB (with the dedup band rows of the builder).", "",
        *(["| build step | time |", "| --- | --- |", *built, ""] if built else []),
        *rows, "",
        *cost,
    ]
    text = "\n".join(md)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
