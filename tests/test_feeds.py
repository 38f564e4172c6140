"""`scrapy crawl news -o/-O FILE`: one contract record per stored article, in any feed format.

The feed's records are those of ``python -m crawler export --all-copies`` for the
same database (one function builds both); internal fields (raw page, signature,
content hash) never reach a feed; an article already stored is kept out of it.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from crawler.commands.cli import main
from crawler.demo.server import SiteServer, WebServer
from crawler.items import ArticleItem, ArticleRecord
from crawler.stats import CounterStats
from crawler.storage.database import Database
from crawler.storage.export import ARTICLE_FIELDS
from crawler.storage.exporters import ArticleCsvItemExporter, ArticleXmlItemExporter
from crawler.storage.models import Article, UrlState
from crawler.storage.writer import AlreadyStored
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.support.fixture_web import build_fixture_web, fixture_sources_yaml
from tests.support.incsite import FAST, REPO, IncSite, crawl_env, run_crawl
from tests.test_dedup import PARA

FORMATS = ("jsonl", "csv", "json", "xml")


def scrapy_crawl(sources: Path, db_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sources={sources}",
         "-s", f"DATABASE_URL={db_url}", *FAST, *extra],
        cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=300,
    )


def exported(db_url: str, tmp_path: Path) -> list[dict[str, Any]]:
    """``python -m crawler export --format jsonl --all-copies`` of *db_url*, sorted by URL."""
    out = tmp_path / "export.jsonl"
    result = CliRunner().invoke(main, ["export", "--format", "jsonl", "--all-copies", "--out", str(out), "--db", db_url])
    assert result.exit_code == 0, result.output
    return by_url([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()])


def by_url(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: r["url"])


def read_feed(path: Path, fmt: str) -> list[dict[str, Any]]:
    """The records of one feed file, lists and nulls read back as ``export`` writes them."""
    text = path.read_text(encoding="utf-8")
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    if fmt == "json":
        return json.loads(text)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        for row in rows:
            for name in ("authors", "tags", "duplicate_urls"):
                row[name] = json.loads(row[name])
            for name in ("published_at", "attribution"):
                row[name] = row[name] or None
        return rows
    records = []
    for element in ET.fromstring(text):
        rec: dict[str, Any] = dict.fromkeys(ARTICLE_FIELDS)
        for child in element:
            rec[child.tag] = [v.text for v in child] if child.tag in ("authors", "tags", "duplicate_urls") \
                else (child.text or "")
        records.append(rec)
    return records


@pytest.fixture(scope="module")
def feed_crawl(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One crawl of the fixture web by `scrapy crawl news`, writing a feed in each format."""
    root = tmp_path_factory.mktemp("feedweb")
    build_fixture_web(root / "web")
    out = root / "out"
    db_url = f"sqlite:///{root / 'feeds.db'}"
    with WebServer(root / "web") as server:
        sources = root / "sources.yaml"
        sources.write_text(fixture_sources_yaml(server), encoding="utf-8")
        outputs = [arg for fmt in FORMATS for arg in ("-O", str(out / f"items.{fmt}"))]
        proc = scrapy_crawl(sources, db_url, *outputs)
    return proc, out, db_url, root


def test_feed_has_one_contract_record_per_stored_article(feed_crawl: Any) -> None:
    proc, out, db_url, root = feed_crawl
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "TypeError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    records = read_feed(out / "items.jsonl", "jsonl")
    database = Database.open(db_url)
    try:
        with database.session() as s:
            stored = set(s.scalars(select(Article.url)))
    finally:
        database.close()
    assert len(stored) >= 40  # the fixture web's articles, copies included
    assert len(records) == len(stored) == len({r["url"] for r in records})
    assert {r["url"] for r in records} == stored
    for rec in records:
        assert list(rec) == ARTICLE_FIELDS  # the contract's fields, nothing internal
        assert rec["title"] and rec["text"] and rec["site"] and rec["url"].startswith("http")
        assert rec["duplicate_urls"] == [] and rec["cluster_id"]
    assert sum(1 for r in records if r["published_at"]) >= 0.9 * len(records)
    assert f"'item_scraped_count': {len(records)}" in proc.stderr


def test_feed_records_are_those_of_export_all_copies(feed_crawl: Any, tmp_path: Path) -> None:
    proc, out, db_url, _root = feed_crawl
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert by_url(read_feed(out / "items.jsonl", "jsonl")) == exported(db_url, tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "json", "xml"])
def test_every_feed_format_carries_the_same_records(feed_crawl: Any, fmt: str) -> None:
    proc, out, *_ = feed_crawl
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = by_url(read_feed(out / "items.jsonl", "jsonl"))
    assert by_url(read_feed(out / f"items.{fmt}", fmt)) == records
    if fmt == "csv":
        header = (out / "items.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == ARTICLE_FIELDS


def test_an_article_stored_already_is_kept_out_of_the_feed(tmp_path: Path) -> None:
    """(PostgreSQL: the pipeline test below; three crawls are enough for SQLite alone.)"""
    small_db_url = f"sqlite:///{tmp_path / 'small.db'}"
    site = IncSite(tmp_path / "site", 6)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        first = scrapy_crawl(sources, small_db_url, "-O", str(tmp_path / "first.jsonl"))
        assert first.returncode == 0, first.stderr[-3000:]
        # Every stored page fetched again (incremental skipping off): nothing new to store.
        again = scrapy_crawl(sources, small_db_url, "-s", "INCREMENTAL_ENABLED=False",
                             "-O", str(tmp_path / "again.jsonl"))
        assert again.returncode == 0, again.stderr[-3000:]
        site.add(2)
        more = scrapy_crawl(sources, small_db_url, "-O", str(tmp_path / "more.jsonl"))
        assert more.returncode == 0, more.stderr[-3000:]
    first_records = read_feed(tmp_path / "first.jsonl", "jsonl")
    assert len(first_records) == 6
    assert read_feed(tmp_path / "again.jsonl", "jsonl") == []
    assert "INFO: Dropped: already stored: " in again.stderr and "'store/already_stored': 6" in again.stderr
    more_records = read_feed(tmp_path / "more.jsonl", "jsonl")
    assert sorted(r["url"].rsplit("/", 1)[-1] for r in more_records) == ["6.html", "7.html"]
    assert by_url(first_records + more_records) == exported(small_db_url, tmp_path)
    # A page seen again is still an article: not remembered as a non-article page.
    database = Database.open(small_db_url)
    try:
        with database.session() as s:
            kinds = set(s.scalars(select(UrlState.kind).where(UrlState.url.like("%/news/%"))))
            assert s.scalar(select(func.count(Article.id))) == 8
    finally:
        database.close()
    assert kinds <= {"article"}


def test_python_m_crawler_crawl_takes_the_same_feed_options(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    site = IncSite(tmp_path / "site", 3)
    with SiteServer(site.root) as server:
        proc = run_crawl(site.sources(server.base_url), db_url, "-O", str(tmp_path / "items.csv"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "articles stored:    3 " in proc.stdout
    records = read_feed(tmp_path / "items.csv", "csv")
    assert len(records) == 3 and by_url(records) == exported(db_url, tmp_path)


@pytest.mark.parametrize("args", [["-O", "x.parquet"], ["-o", "a.jsonl", "-O", "b.jsonl"]])
def test_a_bad_feed_option_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["crawl", "--db", f"sqlite:///{tmp_path / 'x.db'}", *args])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def item(url: str, paras: list[str] = PARA, **kw: Any) -> ArticleItem:
    return ArticleItem(url=url, site="a", fetched_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC), raw_html=b"<html></html>",
                       title="عنوان الخبر", text="\n".join(paras), published_at="2025-03-01",
                       authors=["محرر"], tags=["وسم"], **kw)


def test_the_store_pipeline_returns_the_record_and_drops_what_is_stored(db: Database, settings: Any,
                                                                        tmp_path: Path) -> None:
    stats = CounterStats()
    settings.set("STORAGE_BATCH_SIZE", 10)
    dedup = DedupPipeline.build(settings, stats, db)
    store = StorePipeline.build(settings, stats, db)
    dedup.open_spider()
    record = store.process_item(dedup.process_item(item("https://a.example/1")))
    assert isinstance(record, ArticleRecord)
    assert vars(record) == {
        "url": "https://a.example/1", "site": "a", "title": "عنوان الخبر", "text": "\n".join(PARA),
        "published_at": "2025-03-01", "authors": ["محرر"], "tags": ["وسم"], "attribution": None,
        "cluster_id": record.cluster_id, "duplicate_urls": [], "fetched_at": "2025-03-01T09:30:00+00:00",
    }
    assert record.cluster_id
    with pytest.raises(AlreadyStored, match="already stored: https://a.example/1"):  # queued, not yet written
        store.process_item(dedup.process_item(item("https://a.example/1")))
    store.close_spider()
    with pytest.raises(AlreadyStored) as dropped:  # written
        store.process_item(dedup.process_item(item("https://a.example/1")))
    assert dropped.value.log_level == "INFO"
    store.close_spider()
    assert [vars(record)] == exported(db.url, tmp_path)
    assert stats.get_value("store/inserted") == 1


def test_csv_and_xml_exporters_write_records_as_export_does() -> None:
    record = ArticleRecord(url="https://a.example/1", site="a", title="عنوان", text="سطر\nسطر", published_at=None,
                           authors=["أ, ب", "ج"], tags=[], attribution=None, cluster_id="c1", duplicate_urls=[],
                           fetched_at="2025-03-01T09:30:00+00:00")
    buf = io.BytesIO()
    exporter = ArticleCsvItemExporter(buf)
    exporter.start_exporting()
    exporter.export_item(record)
    exporter.finish_exporting()
    rows = list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8"), newline="")))
    assert rows[0] == ARTICLE_FIELDS
    assert rows[1] == ["https://a.example/1", "a", "عنوان", "سطر\nسطر", "", '["أ, ب", "ج"]', "[]", "", "c1", "[]",
                       "2025-03-01T09:30:00+00:00"]
    buf = io.BytesIO()
    exporter = ArticleXmlItemExporter(buf)
    exporter.start_exporting()
    exporter.export_item(record)
    exporter.finish_exporting()
    element = ET.fromstring(buf.getvalue())[0]
    assert [child.tag for child in element] == [f for f in ARTICLE_FIELDS if f not in ("published_at", "attribution")]
    assert [v.text for v in element.find("authors")] == ["أ, ب", "ج"]
