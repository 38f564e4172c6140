"""Exports: contract columns, one record per cluster, determinism, atomic writes."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import crawler.storage.export as export_mod
from crawler.stats import CounterStats
from crawler.storage.export import ARTICLE_FIELDS, HEADLINE_FIELDS, export_corpus
from crawler.items import ArticleItem
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.test_dedup import OTHER, PARA
from tests.support.settings import project_settings


@pytest.fixture
def filled(db):
    stats = CounterStats()
    dedup, store = DedupPipeline.build(project_settings(), stats, db), StorePipeline.build(project_settings(), stats, db)
    dedup.open_spider()
    rows = [("https://b.example/1", PARA, "2025-01-02"), ("https://a.example/1", PARA[:4], "2025-01-01"),
            ("https://c.example/1", PARA, None), ("https://d.example/1", OTHER, "2025-01-03")]
    for url, paras, pub in rows:
        it = ArticleItem(url=url, site=url.split("/")[2].split(".")[0], fetched_at=datetime(2025, 1, 5, tzinfo=UTC),
                         title="عنوان " + url[-3:], text="\n".join(paras), published_at=pub, tags=["وسم"],
                         related_headlines=[{"headline": "خبر ذو صلة مكرر هنا", "url": "https://x.example/r"}])
        store.process_item(dedup.process_item(it))
    store.close_spider()
    return db


def test_one_record_per_cluster(filled, tmp_path: Path) -> None:
    n = export_corpus(filled, tmp_path / "c.jsonl", "jsonl")
    recs = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert n == 2 == len(recs)
    assert all(list(r) == ARTICLE_FIELDS for r in recs)
    wire = next(r for r in recs if r["duplicate_urls"])
    assert wire["url"] == "https://a.example/1"  # the earliest-published copy
    assert wire["duplicate_urls"] == ["https://b.example/1", "https://c.example/1"]
    assert "عنوان" in (tmp_path / "c.jsonl").read_text(encoding="utf-8")  # not ASCII-escaped
    assert export_corpus(filled, tmp_path / "all.jsonl", "jsonl", all_copies=True) == 4
    assert export_corpus(filled, tmp_path / "site.jsonl", "jsonl", site="d") == 1
    assert export_corpus(filled, tmp_path / "since.jsonl", "jsonl", all_copies=True, since="2025-01-02") == 3


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_exports_are_deterministic(filled, tmp_path: Path, fmt: str) -> None:
    for what in ("articles", "headlines"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        export_corpus(filled, a, fmt, what=what)
        export_corpus(filled, b, fmt, what=what)
        assert a.read_bytes() == b.read_bytes()


def test_csv_and_parquet_columns(filled, tmp_path: Path) -> None:
    export_corpus(filled, tmp_path / "c.csv", "csv")
    rows = list(csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ARTICLE_FIELDS and json.loads(rows[0]["tags"]) == ["وسم"]
    export_corpus(filled, tmp_path / "h.parquet", "parquet", what="headlines")
    table = pq.read_table(tmp_path / "h.parquet")
    assert table.column_names == HEADLINE_FIELDS
    heads = {r["headline"]: r for r in table.to_pylist()}
    assert heads["خبر ذو صلة مكرر هنا"]["count"] == 4


def test_failed_export_keeps_the_old_file(filled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "c.jsonl"
    out.write_text("old\n", encoding="utf-8")

    def boom(*_a, **_k):
        yield {"url": "x"}
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_mod, "articles", boom)
    with pytest.raises(RuntimeError):
        export_corpus(filled, out, "jsonl")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
    with pytest.raises(ValueError):
        export_corpus(filled, out, "xml")
