"""The news spider's bookkeeping: budgets, URL patterns, sources, parsing callbacks on saved responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.discovery.feeds import Entry, entry_modified
from crawler.scheduling.budget import SourceBudgetMiddleware
from crawler.items import ArticleItem
from spiders.news import NewsSpider
from tests.support.settings import own_settings

SOURCES = """sources:
  - name: alpha
    start_urls: [https://alpha.example/]
    feeds: [https://alpha.example/rss]
    max_requests: 5
  - name: beta
    start_urls: [https://beta.example/ar/]
    article_url_pattern: '/ar/news/'
"""


def spider(tmp_path: Path, **settings: object) -> NewsSpider:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    crawler = get_crawler(NewsSpider, settings_dict=own_settings(SOURCES_FILE=str(path), **settings))
    crawler._apply_settings()
    return NewsSpider.from_crawler(crawler)


def test_sources_and_domains(tmp_path: Path) -> None:
    s = spider(tmp_path)
    assert set(s.sources) == {"alpha", "beta"}
    assert s.allowed_domains == ["alpha.example", "beta.example"]
    assert s._source_of("https://www.alpha.example/x") == "alpha"
    assert s._source_of("https://gamma.example/x") is None


def test_budget_bounds_fetches_per_source(tmp_path: Path) -> None:
    s = spider(tmp_path, DISCOVERY_SCHEDULE_FACTOR=2)
    alpha = s.sources["alpha"]
    made = [s._page_request(f"https://alpha.example/news/{i}", alpha, depth=1) for i in range(20)]
    scheduled = [r for r in made if r is not None]
    assert len(scheduled) == 10  # the queue is capped at twice the budget
    assert s.crawler.stats.get_value("discovery/schedule_cap/alpha") == 10
    budget = SourceBudgetMiddleware.from_crawler(s.crawler)
    fetched = 0
    for request in scheduled:
        try:
            budget.process_request(request)
            fetched += 1
        except IgnoreRequest:
            pass
    assert fetched == 5  # the source's max_requests
    assert s.crawler.stats.get_value("discovery/budget_exhausted/alpha") == 5
    # The same URL (after canonicalisation) is requested once.
    s2 = spider(tmp_path)
    first = s2._page_request("https://alpha.example/n/1?utm_source=x", s2.sources["alpha"], depth=1)
    again = s2._page_request("https://alpha.example/n/1#top", s2.sources["alpha"], depth=1)
    assert first is not None and again is None


def test_url_pattern_and_offsite_and_non_pages(tmp_path: Path) -> None:
    s = spider(tmp_path)
    beta = s.sources["beta"]
    assert s._page_request("https://beta.example/ar/news/1", beta, depth=1) is not None
    assert s._page_request("https://beta.example/en/news/1", beta, depth=1) is None
    assert s._page_request("https://alpha.example/news/1", beta, depth=1) is None  # another source's host
    assert s._page_request("https://beta.example/ar/news/p.jpg", beta, depth=1) is None
    assert s._page_request("https://beta.example/tag/x", beta, depth=1) is None
    stats = s.crawler.stats.get_stats()
    assert stats["discovery/skipped/url_pattern"] == 1 and stats["discovery/skipped/url_tag"] == 1


def test_feed_and_page_callbacks(tmp_path: Path) -> None:
    s = spider(tmp_path)
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel>
<item><title>t</title><link>https://alpha.example/news/7</link></item></channel></rss>"""
    request = Request("https://alpha.example/rss", meta={"source": "alpha", "kind": "feed"})
    out = list(s.parse_feed(XmlResponse(request.url, body=feed, request=request)))
    assert [r.url for r in out] == ["https://alpha.example/news/7"]
    assert out[0].meta["hint"]["via"] == "feed"
    html = "<html><body><a href='/news/8'>خبر</a><a href='/?page=2'>2</a></body></html>".encode()
    request = Request("https://alpha.example/news/7", meta={"source": "alpha", "kind": "page", "news_depth": 1})
    out = list(s.parse_page(HtmlResponse(request.url, body=html, encoding="utf-8", request=request)))
    assert isinstance(out[0], ArticleItem) and out[0].site == "alpha"
    assert {r.url for r in out[1:]} == {"https://alpha.example/news/8", "https://alpha.example/?page=2"}


def _sitemap(kind: str, entries: list[tuple[str, str | None]]) -> bytes:
    tag, item = ("sitemapindex", "sitemap") if kind == "index" else ("urlset", "url")
    body = "".join(f"<{item}><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</{item}>"
                   for loc, mod in entries)
    return f'<?xml version="1.0"?><{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{tag}>'.encode()


def test_sitemap_max_age_skips_old_entries(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    recent, old = (now - timedelta(days=2)).isoformat(), (now - timedelta(days=40)).date().isoformat()
    pages = [("https://alpha.example/news/1", recent), ("https://alpha.example/news/2", old),
             ("https://alpha.example/news/3", None), ("https://alpha.example/news/4", "not a date")]
    children = [("https://alpha.example/s-new.xml", recent), ("https://alpha.example/s-old.xml", old)]

    def parse(s: NewsSpider, body: bytes) -> list[str]:
        request = Request("https://alpha.example/sitemap.xml", meta={"source": "alpha", "kind": "sitemap"})
        return sorted(r.url for r in s.parse_sitemap(XmlResponse(request.url, body=body, request=request)))

    kept_all = spider(tmp_path)  # the default, 0: every entry is kept
    assert kept_all.sitemap_max_age_days == 0
    assert parse(kept_all, _sitemap("urlset", pages)) == [u for u, _ in pages]
    s = spider(tmp_path, DISCOVERY_SITEMAP_MAX_AGE_DAYS=30)
    # undated entries and unreadable dates are kept: only a known old date is skipped
    assert parse(s, _sitemap("urlset", pages)) == [pages[0][0], pages[2][0], pages[3][0]]
    assert parse(s, _sitemap("index", children)) == ["https://alpha.example/s-new.xml"]
    assert s.crawler.stats.get_value("discovery/sitemap_too_old") == 2


def test_entry_modified_reads_w3c_dates() -> None:
    assert entry_modified(Entry("u", lastmod="2025-10-15")) == datetime(2025, 10, 15, tzinfo=UTC)
    assert entry_modified(Entry("u", lastmod="2025-10-15T08:30:00+03:00")) == datetime(2025, 10, 15, 5, 30, tzinfo=UTC)
    assert entry_modified(Entry("u", lastmod="2025-10-15T05:30Z")) == datetime(2025, 10, 15, 5, 30, tzinfo=UTC)
    assert entry_modified(Entry("u", published="2025-10-14")) == datetime(2025, 10, 14, tzinfo=UTC)  # news date
    assert entry_modified(Entry("u", lastmod="yesterday")) is None and entry_modified(Entry("u")) is None
