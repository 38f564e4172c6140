"""Incremental crawling: re-runs fetch only what is new (SQLite and PostgreSQL, local site)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.demo.server import SiteServer
from crawler.scheduling.dupefilter import BoundedDupeFilter
from crawler.scheduling.incremental import decide, parse_lastmod
from crawler.storage.database import Database
from crawler.storage.models import Article, UrlState
from tests.support.db import query
from tests.support.incsite import IncSite, article_paths, run_crawl

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


# -- pure decisions -------------------------------------------------------------------------
@pytest.mark.parametrize(("fetched", "state", "lastmod", "recheck", "expected"), [
    (None, None, None, 0, "new"),
    (NOW - timedelta(days=3), None, None, 0, "skip"),
    (None, {"kind": "not_article", "lastmod": None, "fetched_at": NOW}, None, 0, "skip"),
    (None, {"kind": "listing", "lastmod": None, "fetched_at": NOW}, None, 0, "listing"),
    (NOW - timedelta(days=3), None, "2026-01-09", 0, "lastmod"),  # changed after we fetched it
    (NOW - timedelta(days=3), None, "2026-01-05", 0, "skip"),  # not newer than what is stored
    (NOW - timedelta(days=3), {"kind": "article", "lastmod": "2026-01-09T10:00:00+00:00",
                               "fetched_at": NOW - timedelta(hours=1)}, "2026-01-09T10:00:00Z", 0, "skip"),
    (NOW - timedelta(hours=30), None, None, 24, "recheck"),
    (NOW - timedelta(hours=3), None, None, 24, "skip"),
    (datetime(2026, 1, 1, 12, 0), None, None, 0, "skip"),  # naive (SQLite) is UTC
])
def test_decide(fetched, state, lastmod, recheck, expected) -> None:
    assert decide(NOW, recheck, fetched, state, lastmod) == expected


def test_listing_made_conditional_from_the_row_already_read() -> None:
    """A listing page's url_state row (read by SkipStoredMiddleware) carries its validators:
    ConditionalRequestMiddleware uses them and reads nothing (its look-ups would raise)."""
    from types import SimpleNamespace

    from scrapy import Request

    from crawler import meta as m
    from crawler.scheduling.incremental import ConditionalRequestMiddleware

    def no_reads(*_a: object) -> None:
        raise AssertionError("url_state read a second time")

    mw = ConditionalRequestMiddleware(SimpleNamespace(stats=None), None, None)  # type: ignore[arg-type]
    mw.validators_many = no_reads  # type: ignore[method-assign]
    mw.lookups = SimpleNamespace(get=no_reads)  # type: ignore[assignment]
    state = {"kind": "listing", "lastmod": None, "fetched_at": NOW, "etag": '"v1"', "last_modified": None}
    request = Request("http://a.test/section/", meta={m.INCREMENTAL_STATE: state})
    assert mw.process_request(request) is None
    assert request.headers[b"If-None-Match"] == b'"v1"' and b"If-Modified-Since" not in request.headers
    assert request.meta[m.INCREMENTAL_CONDITIONAL]


def test_parse_lastmod() -> None:
    assert parse_lastmod("2025-10-15") == datetime(2025, 10, 15, tzinfo=UTC)
    assert parse_lastmod("2025-10-15T09:42:00+03:00") == datetime(2025, 10, 15, 6, 42, tzinfo=UTC)
    assert parse_lastmod("yesterday") is None
    assert parse_lastmod(None) is None


def test_bounded_dupefilter_stays_bounded() -> None:
    from scrapy import Request

    df = BoundedDupeFilter(max_size=100)
    assert not df.request_seen(Request("http://a.test/0"))
    assert df.request_seen(Request("http://a.test/0"))
    for i in range(1, 1000):
        df.request_seen(Request(f"http://a.test/{i}"))
    assert len(df) == 100
    assert df.request_seen(Request("http://a.test/999"))


# -- crawls ---------------------------------------------------------------------------------
def _count(url: str) -> tuple[int, int]:
    ((total, distinct),) = query(url, select(func.count(Article.id), func.count(func.distinct(Article.url))))
    return total, distinct


def test_rerun_fetches_only_new_articles(tmp_path: Path, db_url: str) -> None:
    site = IncSite(tmp_path / "site", 12)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        first = run_crawl(sources, db_url)
        assert first.returncode == 0, first.stderr[-2000:]
        assert _count(db_url) == (12, 12)
        assert "/info/team.html" in [r.path for r in server.requests]

        # Unchanged site: feeds, sitemap and start page answer 304; no article page is fetched.
        server.reset_requests()
        second = run_crawl(sources, db_url)
        assert second.returncode == 0, second.stderr[-2000:]
        assert article_paths(server.requests) == []
        statuses = {r.path: r.status for r in server.requests}
        assert statuses["/feed.xml"] == statuses["/sitemap.xml"] == statuses["/"] == 304
        assert all(r.headers.get("If-None-Match") for r in server.requests if r.status == 304)
        assert "unchanged (304)" in second.stdout
        assert _count(db_url) == (12, 12)

        # Three new articles: only those are fetched; the known non-article page is not.
        new = site.add(3)
        server.reset_requests()
        third = run_crawl(sources, db_url)
        assert third.returncode == 0, third.stderr[-2000:]
        assert sorted(article_paths(server.requests)) == sorted(new)
        paths = [r.path for r in server.requests]
        assert "/info/team.html" not in paths
        assert "/section/" in paths  # a section is a listing: fetched again (conditionally)
        assert "incremental/skipped_stored" not in third.stdout or True
        assert _count(db_url) == (15, 15)

    db = Database.open(db_url)
    try:
        with db.session() as s:
            states = {u.url.rsplit("/", 1)[-1] or "/": (u.kind, u.etag) for u in s.scalars(select(UrlState))}
    finally:
        db.close()
    assert states["team.html"][0] == "not_article"
    assert states["feed.xml"][0] == "feed" and states["feed.xml"][1]
    assert states["sitemap.xml"][0] == "sitemap"


def test_recheck_window_refetches_old_pages(tmp_path: Path) -> None:
    site = IncSite(tmp_path / "site", 5)
    url = f"sqlite:///{tmp_path / 'news.db'}"
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        assert run_crawl(sources, url).returncode == 0
        db = Database.open(url)
        with db.begin() as s:  # pretend the articles were fetched (and seen) two days ago
            two_days_ago = datetime.now(UTC) - timedelta(days=2)
            s.execute(Article.__table__.update().values(fetched_at=two_days_ago))
            s.execute(UrlState.__table__.update().where(UrlState.kind == "article").values(fetched_at=two_days_ago))
        db.close()
        site.add(1)  # the indexes change, so their links are seen again
        server.reset_requests()
        proc = run_crawl(sources, url, "-s", "INCREMENTAL_RECHECK_HOURS=24")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert len(article_paths(server.requests)) == 6
        assert _count(url) == (6, 6)


def test_stored_articles_cost_no_budget(tmp_path: Path) -> None:
    """With a budget barely above the new pages, a re-run still reaches every new article."""
    url = f"sqlite:///{tmp_path / 'news.db'}"
    site = IncSite(tmp_path / "site", 12)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        assert run_crawl(sources, url).returncode == 0
        new = site.add(3)
        server.reset_requests()
        proc = run_crawl(sources, url, "-s", "DISCOVERY_MAX_REQUESTS_PER_SOURCE=8")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert sorted(article_paths(server.requests)) == sorted(new)
    assert _count(url) == (15, 15)
