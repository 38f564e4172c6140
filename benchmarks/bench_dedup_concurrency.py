"""De-duplication under concurrency: N processes storing copies of the same stories at once.

Each of N worker processes plays one site that carries a copy of every story
(the story's paragraphs plus a sentence of its own, so copies are near-duplicates,
not exact ones). All start at one barrier and walk the stories in the same order,
so the copies of one story are clustered by different processes at about the same
time: the worst case of a shared crawl. Each batch goes through the crawl's path:
``Deduplicator`` (index rows) then ``ArticleWriter`` (articles), with the band locks
(``--mode locks``) released once the batch is stored, as ``pipelines/dedup.py`` does;
``--mode index`` releases them when the index rows commit (what ``pg_advisory_xact_lock``
in the index transaction would do), ``--mode none`` takes none.

The reference is one process storing the same copies in the same order: one cluster
per story. Reported: clusters, runs identical to the reference, pairwise recall, and
the time per round (best of the rounds; the machine is shared, so times are noisy).

Usage: python benchmarks/bench_dedup_concurrency.py [--rounds 10] [--workers 3] [--stories 16]
       [--batch 1] [--mode locks|index|none]
Needs PostgreSQL at TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from crawler.demo.texts import make_stories  # noqa: E402
from crawler.stats import CounterStats  # noqa: E402
from crawler.storage.database import Database  # noqa: E402
from crawler.storage.models import Article  # noqa: E402
from tests.support.pg import drop_pg_database, fresh_pg_database  # noqa: E402
from tests.support.settings import project_settings  # noqa: E402

_WHEN = dt.datetime(2025, 10, 1, 8, 0, tzinfo=dt.UTC)
_REPORTERS = ("مراسلنا", "محررنا", "موفدنا", "مندوبنا", "كاتبنا", "زميلنا")
_SITES = ("الواحة", "الساحل", "المرصاد", "النهار", "القديمة", "الفجر")


def copies(stories: int, workers: int) -> list[list[dict[str, Any]]]:
    """Per worker, its copy of every story (in story order)."""
    out: list[list[dict[str, Any]]] = [[] for _ in range(workers)]
    for i, story in enumerate(make_stories()[:stories]):
        for w in range(workers):
            # a sentence of the copy's own, without numbers (a number a copy lacks is a conflict)
            own = f"وقال {_REPORTERS[w % len(_REPORTERS)]} في تقريره لموقع {_SITES[w % len(_SITES)]} إن المتابعة مستمرة."
            out[w].append({
                "url": f"https://site{w}.example/news/{i}", "site": f"site{w}", "title": story.title,
                "text": "\n".join([*story.paragraphs(_WHEN.replace(tzinfo=None)), own]), "fetched_at": _WHEN,
            })
    return out


def run_worker(url: str, items: list[dict[str, Any]], batch: int, mode: str, barrier: Any) -> None:
    """One process: its copies through dedup then the writer, *batch* at a time."""
    from crawler.dedup.clusterer import Deduplicator
    from crawler.storage.writer import ArticleWriter

    settings = project_settings()
    db = Database.open(url, migrate=False)
    dedup = Deduplicator.build(settings, CounterStats(), db)
    writer = ArticleWriter.build(settings, CounterStats(), db)
    if mode in ("locks", "index"):
        dedup.enable_locks(settings)
    if barrier is not None:
        barrier.wait()
    for i in range(0, len(items), batch):
        part = [dict(it) for it in items[i : i + batch]]
        if mode == "locks":
            part, held = dedup.process_batch_held(part)
            try:
                writer.write_now(part)
            finally:
                held.release()
        else:  # "index": process_batch releases the locks when its index rows commit
            dedup.process_batch(part)
            writer.write_now(part)
    db.close()


def partition(url: str) -> set[frozenset[str]]:
    db = Database.open(url, migrate=False)
    try:
        with db.session() as s:
            groups: dict[str, set[str]] = {}
            for u, cid in s.execute(select(Article.url, Article.cluster_id)):
                groups.setdefault(cid, set()).add(u)
    finally:
        db.close()
    return {frozenset(g) for g in groups.values()}


def story_of(u: str) -> str:
    return u.rsplit("/", 1)[1]


def prepared_database() -> tuple[str, str]:
    url, name = fresh_pg_database()
    db = Database.open(url)  # schema and dedup configuration once, before the workers start
    from crawler.dedup.clusterer import Deduplicator

    Deduplicator.build(project_settings(), CounterStats(), db).open()
    db.close()
    return url, name


def one_round(per_worker: list[list[dict[str, Any]]], batch: int, mode: str) -> tuple[set[frozenset[str]], float]:
    url, name = prepared_database()
    try:
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(len(per_worker) + 1)
        procs = [ctx.Process(target=run_worker, args=(url, items, batch, mode, barrier)) for items in per_worker]
        for p in procs:
            p.start()
        barrier.wait()
        t0 = time.perf_counter()
        for p in procs:
            p.join(300)
            if p.exitcode != 0:
                raise SystemExit(f"worker exited {p.exitcode}")
        took = time.perf_counter() - t0
        return partition(url), took
    finally:
        drop_pg_database(name)


def reference(per_worker: list[list[dict[str, Any]]], batch: int) -> set[frozenset[str]]:
    """One process, the copies story by story (worker 0's copy first)."""
    order = [it for group in zip(*per_worker) for it in group]
    url, name = prepared_database()
    try:
        run_worker(url, order, batch, "none", None)
        return partition(url)
    finally:
        drop_pg_database(name)


def recall(ref: set[frozenset[str]], got: set[frozenset[str]]) -> float:
    pairs = {p for g in ref for p in combinations(sorted(g), 2)}
    found = {p for g in got for p in combinations(sorted(g), 2)}
    return len(pairs & found) / len(pairs) if pairs else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--stories", type=int, default=16)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--mode", choices=["none", "index", "locks"], default="locks")
    args = ap.parse_args()
    per_worker = copies(args.stories, args.workers)
    ref = reference(per_worker, args.batch)
    print(f"reference (one process): {len(ref)} clusters for {args.stories} stories "
          f"x {args.workers} copies; stories intact: {all(len({story_of(u) for u in g}) == 1 for g in ref)}")
    same, times, counts, recalls = 0, [], [], []
    for _ in range(args.rounds):
        got, took = one_round(per_worker, args.batch, args.mode)
        same += got == ref
        times.append(took)
        counts.append(len(got))
        recalls.append(recall(ref, got))
    print(f"mode={args.mode} workers={args.workers} batch={args.batch}: identical to the reference in "
          f"{same}/{args.rounds} rounds; clusters min {min(counts)} max {max(counts)} (reference {len(ref)}); "
          f"pairwise recall mean {sum(recalls) / len(recalls):.2f} min {min(recalls):.2f}; "
          f"time per round best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s")


if __name__ == "__main__":
    main()
