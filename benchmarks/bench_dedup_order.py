"""Does arrival order change the clusters? One process, the same articles in several orders.

A shared crawl stores pages in another order than one process; with the band locks
(crawler/dedup/locks.py) it clusters exactly as one process would *in the order its
workers stored the pages*. This measures how much that order can matter on real news:
the articles of a corpus file clustered in their file order, reversed, and shuffled
(seeded), each order one copy at a time (each stored before the next), in a fresh
SQLite database. Reported: clusters per order, and the copies whose cluster (as a set of
URLs) differs from the file order's.

Usage: python benchmarks/bench_dedup_order.py [--corpus ../shared/corpus/saudinewsnet-2015-07-21_23.jsonl]
       [--limit 2000] [--shuffles 2]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.arrival import cluster_in_order, groups  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "corpus" / "saudinewsnet-2015-07-21_23.jsonl"


def load(path: Path, limit: int) -> list[dict[str, Any]]:
    out, seen = [], set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            paras = rec.get("paragraphs")
            if isinstance(paras, str):  # some files keep the list as its repr
                paras = [paras]
            url = rec.get("url")
            if not url or url in seen or not paras:
                continue
            seen.add(url)
            out.append({"url": url, "site": rec.get("outlet") or "x", "title": rec.get("title") or "",
                        "text": "\n".join(paras), "fetched_at": datetime(2025, 1, 1, tzinfo=UTC)})
            if len(out) >= limit:
                break
    return out


def clusters(pages: list[dict[str, Any]], tmp: Path) -> dict[str, frozenset[str]]:
    """url -> the URLs of its cluster, the pages clustered in the order given."""
    cluster_of = cluster_in_order(tmp, pages)
    members = groups(cluster_of)
    return {u: members[c] for u, c in cluster_of.items()}


def pairs(of: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    return {p for g in set(of.values()) for p in combinations(sorted(g), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--shuffles", type=int, default=2)
    args = ap.parse_args()
    pages = load(args.corpus, args.limit)
    orders = {"file order": pages, "reversed": pages[::-1]}
    for n in range(args.shuffles):
        orders[f"shuffled (seed {n})"] = random.Random(n).sample(pages, len(pages))
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n, (name, order) in enumerate(orders.items()):
            t0 = time.perf_counter()
            results[name] = clusters(order, Path(tmp) / f"{n}.db")
            print(f"{name}: {len(set(results[name].values()))} clusters, "
                  f"{sum(1 for g in set(results[name].values()) if len(g) > 1)} with copies "
                  f"({time.perf_counter() - t0:.1f} s)")
    base = results["file order"]
    base_pairs = pairs(base)
    print(f"{len(pages)} articles of {args.corpus.name}; {len(base_pairs)} merged pairs in file order")
    for name, got in results.items():
        if name == "file order":
            continue
        moved = sum(1 for u in base if got[u] != base[u])
        got_pairs = pairs(got)
        print(f"{name}: copies whose cluster differs from file order: {moved} / {len(base)}; merged pairs "
              f"{len(got_pairs)}, shared with file order {len(got_pairs & base_pairs)}")


if __name__ == "__main__":
    main()
