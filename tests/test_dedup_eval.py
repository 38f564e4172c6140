"""Quality gate on the labelled evaluation set (tests/dedup_eval, texts from ../shared)."""

from __future__ import annotations

import pytest

from tests.dedup_eval import evalset

pytestmark = pytest.mark.skipif(not evalset.available(), reason=f"{evalset.CORPUS} is absent (../shared not checked out)")


def test_article_precision_recall(sqlite_db) -> None:
    ev = evalset.build()
    clusters, _stats = evalset.run_articles(sqlite_db, ev.docs)
    score = evalset.pairwise(ev.article_pairs, clusters)
    assert score["positives"] > 1000 and score["negatives"] > 400
    assert score["precision"] >= 0.98, score
    assert score["recall"] >= 0.95, score


def test_headline_precision_recall(sqlite_db) -> None:
    ev = evalset.build(limit_generated=0)
    clusters = evalset.run_headlines(sqlite_db, ev.headlines)
    score = evalset.pairwise(ev.headline_pairs, clusters)
    assert score["positives"] >= 250 and score["negatives"] >= 300
    assert score["precision"] >= 0.95, score
    assert score["recall"] >= 0.95, score
