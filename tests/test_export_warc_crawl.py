"""WARC of a real crawl: the HTTP status and headers kept from the fetch reach the WARC records.

One ``python -m crawler crawl`` of the fixture web on loopback, then
``python -m crawler export --format warc --all-copies`` as users run it, read
back with warcio; plus the schema upgrade of a database made before
migration 0003 (its pages keep no headers and still export).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import WebServer
from crawler.storage.database import Database, make_engine
from crawler.storage.migrations import upgrade
from crawler.storage.models import Article, RawPage
from tests.support.fixture_web import build_fixture_web, fixture_sources_yaml

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "LOG_LEVEL=WARNING"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("warcweb")
    build_fixture_web(root / "web")
    db_url = f"sqlite:///{root / 'web.db'}"
    with WebServer(root / "web") as server:
        sources = root / "sources.yaml"
        sources.write_text(fixture_sources_yaml(server), encoding="utf-8")
        result = cli("crawl", "--sources", str(sources), "--db", db_url, *FAST)
        assert result.returncode == 0, result.stderr[-3000:]
    return root, db_url, sources


def test_crawl_keeps_status_and_headers_and_the_warc_carries_them(crawled: Any) -> None:
    root, db_url, sources = crawled
    db = Database.open(db_url)
    try:
        with db.session() as s:
            stored = {r.url: r for r in s.execute(
                select(Article.url, Article.site, Article.run_id, RawPage.html_zlib, RawPage.http_status,
                       RawPage.http_headers).join(RawPage, RawPage.article_id == Article.id))}
    finally:
        db.close()
    assert len(stored) >= 10
    for row in stored.values():
        assert row.http_status == 200
        names = {name.lower() for name, _ in row.http_headers}
        assert {"content-type", "content-length", "server", "date"} <= names, row.http_headers
    out = root / "pages.warc.gz"
    result = cli("export", "--format", "warc", "--out", str(out), "--db", db_url, "--all-copies",
                 "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    result = cli("export", "--format", "jsonl", "--out", str(root / "all.jsonl"), "--db", db_url, "--all-copies")
    assert result.returncode == 0, result.stderr
    records = [json.loads(x) for x in (root / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    with out.open("rb") as fh:
        responses = [(r, r.content_stream().read()) for r in ArchiveIterator(fh, check_digests="raise")
                     if r.rec_type == "response"]
    assert [r.rec_headers.get_header("WARC-Target-URI") for r, _ in responses] == [x["url"] for x in records]
    for (rec, body), x in zip(responses, records, strict=True):
        row = stored[x["url"]]
        assert body == zlib.decompress(row.html_zlib)
        assert rec.http_headers.get_statuscode() == "200"
        kept = dict((k.lower(), v) for k, v in row.http_headers)
        assert rec.http_headers.get_header("Content-Type") == kept["content-type"]
        assert rec.http_headers.get_header("Server") == kept["server"]
        assert rec.rec_headers.get_header("X-Crawler-Http-Headers") is None
    card = json.loads((root / "pages.warc.gz.card.json").read_text(encoding="utf-8"))
    assert card["record_count"] == len(records) and card["warc"]["headers_reconstructed"] == 0
    runs = card["crawl_runs"]["runs"]
    assert len(runs) == 1 and runs[0]["status"] == "finished" and runs[0]["copies"] == len(records)
    assert card["sources_file"] == str(sources)
    assert {n["site"] for n in card["licences"]} == {x["site"] for x in records}
    assert all(n["in_sources_file"] for n in card["licences"])


def test_a_database_from_before_0003_upgrades_and_exports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO articles (url, site, title, text, authors, tags, related_headlines, fetched_at, updated_at)"
            " VALUES ('https://old.example/1', 'old', 't', 'x', '[]', '[]', '[]', '2024-05-01 10:00:00.000000',"
            " '2024-05-01 10:00:00.000000')")
        conn.exec_driver_sql("INSERT INTO raw_pages (article_id, encoding, html_zlib) VALUES (1, 'utf-8', ?)",
                             (zlib.compress(b"<html>old</html>"),))
    engine.dispose()
    result = cli("export", "--format", "warc", "--out", str(tmp_path / "old.warc"), "--db", url, "--all-copies")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "old.warc").open("rb") as fh:
        recs = [(r, r.content_stream().read()) for r in ArchiveIterator(fh, check_digests="raise")]
    assert [r.rec_type for r, _ in recs] == ["warcinfo", "response"]
    rec, body = recs[1]
    assert body == b"<html>old</html>" and rec.rec_headers.get_header("WARC-Date") == "2024-05-01T10:00:00Z"
    assert rec.rec_headers.get_header("X-Crawler-Http-Headers") == "reconstructed"
    assert rec.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"
