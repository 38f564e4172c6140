"""`why` and `unmerge`: merges explained from the merges table and stored signatures, and undone for good."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from crawler.commands.cli import main
from crawler.stats import CounterStats
from crawler.storage.export import export_corpus
from crawler.storage.models import Article, MergeRecord
from crawler.storage.writer import AlreadyStored
from crawler.dedup.why import UnknownArticle, explain, unmerge, unmerged_cluster_id
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.test_dedup import OTHER, PARA, item
from tests.support.settings import project_settings

A, B, C, D = "https://a.example/1", "https://b.example/1", "https://c.example/1", "https://d.example/1"
NEAR = ["جدة (واس) - " + PARA[0]] + PARA[1:4] + ["تابعونا على تويتر"]


def crawl(database, items) -> None:
    stats = CounterStats()
    dedup, store = DedupPipeline.build(project_settings(), stats, database), StorePipeline.build(project_settings(), stats, database)
    dedup.open_spider()
    store.open_spider()
    for it in items:
        with contextlib.suppress(AlreadyStored):  # as the crawl does: an expected drop
            store.process_item(dedup.process_item(it))
    store.close_spider()
    dedup.close_spider()


def stored(database) -> list[dict]:
    path = Path(database.url.removeprefix("sqlite:///")).parent / "out.jsonl" if database.dialect == "sqlite" else None
    if path is None:
        import tempfile

        path = Path(tempfile.mkdtemp()) / "out.jsonl"
    export_corpus(database, path, "jsonl")
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def merged(db):
    crawl(db, [item(A, PARA, published_at="2025-01-01"), item(B, PARA), item(C, NEAR), item(D, OTHER)])
    return db


def test_why_explains_exact_and_near_merges(merged) -> None:
    text = explain(merged, B, A)
    assert "the same cluster" in text and "by exact" in text and "score 1.0000" in text
    assert "verified Jaccard" in text and "1.0000" in text and "identical" in text
    assert "configuration: minhash-v2" in text and "index built with" in text
    near = explain(merged, C, A)
    assert "by minhash" in near and "estimated Jaccard" in near
    score = float(near.split("verified Jaccard")[1].split(": ")[1].split()[0])
    assert 0.4 <= score < 1.0
    chain = explain(merged, C, B)  # B and C are linked through A
    assert chain.count("joined") == 2
    other = explain(merged, A, D)
    assert "different clusters" in other
    with pytest.raises(UnknownArticle):
        explain(merged, A, "https://nowhere.example/x")


def test_unmerge_moves_the_copy_out_and_is_remembered(merged) -> None:
    before = {r["url"]: r for r in stored(merged)}
    assert C in before[A]["duplicate_urls"]
    old, new = unmerge(merged, C)
    assert new == unmerged_cluster_id(C) and old != new
    after = {r["url"]: r for r in stored(merged)}
    assert C in after and C not in after[A]["duplicate_urls"] and after[C]["cluster_id"] == new
    assert B in after[A]["duplicate_urls"]
    with merged.session() as s:
        undo = s.scalars(select(MergeRecord).where(MergeRecord.method == "undo")).one()
        assert (undo.member, undo.matched, undo.cluster_id) == (C, A, new)
    assert "different clusters" in explain(merged, C, A) and "UNMERGED" in explain(merged, C, A)
    # A later crawl of the same page does not merge it again; other copies still merge.
    crawl(merged, [item(C, NEAR), item("https://e.example/1", PARA)])
    with merged.session() as s:
        clusters = dict(s.execute(select(Article.url, Article.cluster_id)).all())
    assert clusters[C] == new and clusters["https://e.example/1"] == clusters[A]
    with pytest.raises(ValueError):
        unmerge(merged, D)  # alone in its cluster


def test_cli_why_and_unmerge(sqlite_db) -> None:
    crawl(sqlite_db, [item(A, PARA), item(C, NEAR)])
    runner = CliRunner()
    out = runner.invoke(main, ["why", A, C, "--db", sqlite_db.url])
    assert out.exit_code == 0, out.output
    assert "minhash" in out.output
    out = runner.invoke(main, ["unmerge", C, "--db", sqlite_db.url])
    assert out.exit_code == 0 and "moved from cluster" in out.output
    out = runner.invoke(main, ["unmerge", "https://nowhere.example/", "--db", sqlite_db.url])
    assert out.exit_code == 2


def test_why_names_the_number_that_kept_an_update_apart(sqlite_db) -> None:
    crawl(sqlite_db, [
        item("https://a.example/n", PARA, title="ارتفاع عدد المصابين إلى 12 شخصا"),
        item("https://b.example/n", PARA[:4], title="ارتفاع عدد المصابين إلى 19 شخصا"),
    ])
    text = explain(sqlite_db, "https://a.example/n", "https://b.example/n")
    assert "verdict: different clusters (not merged)" in text
    assert "numbers: 1 shared context(s) with different numbers" in text


def test_why_names_the_days_that_kept_two_digests_apart(sqlite_db) -> None:
    crawl(sqlite_db, [
        item("https://a.example/d", PARA, title="أبرز أخبار السبت"),
        item("https://b.example/d", PARA[:4], title="أبرز أحداث الخميس"),
    ])
    text = explain(sqlite_db, "https://a.example/d", "https://b.example/d")
    assert "verdict: different clusters (not merged)" in text
    assert "date: the headlines name different days" in text
