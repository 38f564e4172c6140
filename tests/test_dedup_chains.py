"""Clusters cannot chain: a copy joins a cluster only when it is close to every member.

A, B and C are three texts from one template, each a near-copy of the one before
(B ~ A, C ~ B) while A and C are different stories (Jaccard under 0.3). Single-link
clustering joined C to A's cluster through B; the complete-link rule keeps it apart,
whether B is still pending in this run or already stored, and `why` shows the rule.
"""

from __future__ import annotations

from itertools import product

import pytest
from scrapy.settings import Settings

from crawler.dedup.minhash import DedupConfig, MinHasher, jaccard
from crawler.dedup.why import explain
from crawler.stats import CounterStats
from crawler.text import normalize_for_matching
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.support.db import db, sqlite_db  # noqa: F401
from tests.test_dedup import item

# 400 distinct two-letter words of letters that matching never folds together.
LETTERS = "بتثجحخدذرزسشصضطظعغفق"
WORDS = ["".join(p) + "ن" for p in product(LETTERS, LETTERS)]


def text(start: int, stop: int) -> list[str]:
    words = WORDS[start:stop]
    return [" ".join(words[i:i + 20]) for i in range(0, len(words), 20)]


A, B, C = text(0, 200), text(50, 250), text(110, 310)
UA, UB, UC = "https://a.example/1", "https://b.example/1", "https://c.example/1"


def similarity(x: list[str], y: list[str]) -> float:
    hasher = MinHasher(DedupConfig())
    return jaccard(*(hasher.shingles(normalize_for_matching("\n".join(t)), normalized=True) for t in (x, y)))


def run(database, batches: list[list], **settings) -> dict[str, str]:
    stats = CounterStats()
    s = Settings(settings)
    dedup, store = DedupPipeline.build(s, stats, database), StorePipeline.build(s, stats, database)
    dedup.open_spider()
    store.open_spider()
    out = {}
    for batch in batches:
        for it in dedup.process_batch(batch):
            out[it.url] = it.cluster_id
            store.process_item(it)
        store.flush()
    store.close_spider()
    dedup.close_spider()
    return out


def test_the_texts_form_a_chain() -> None:
    assert similarity(A, B) >= 0.4 and similarity(B, C) >= 0.4
    assert similarity(A, C) < 0.3


@pytest.mark.parametrize("stored_between", [False, True], ids=["pending", "stored"])
def test_a_chain_does_not_grow_one_cluster(db, stored_between: bool) -> None:  # noqa: F811
    items = [item(UA, A), item(UB, B), item(UC, C)]
    batches = [[it] for it in items] if stored_between else [items]
    clusters = run(db, batches)
    assert clusters[UA] == clusters[UB]
    assert clusters[UC] != clusters[UA]


def test_single_link_would_have_chained(sqlite_db) -> None:  # noqa: F811
    clusters = run(sqlite_db, [[item(UA, A), item(UB, B), item(UC, C)]], DEDUP_MEMBER_THRESHOLD=0.0)
    assert clusters[UA] == clusters[UB] == clusters[UC]


def test_why_shows_the_cluster_rule(sqlite_db) -> None:  # noqa: F811
    run(sqlite_db, [[item(UA, A), item(UB, B), item(UC, C)]])
    text = explain(sqlite_db, UA, UB)
    assert "the same cluster" in text and "every member 0.3" in text and "complete link" in text
    assert "different clusters" in explain(sqlite_db, UA, UC)


def test_member_threshold_is_validated(sqlite_db) -> None:  # noqa: F811
    with pytest.raises(ValueError):
        DedupPipeline.build(Settings({"DEDUP_MEMBER_THRESHOLD": 0.9}), CounterStats(), sqlite_db)
