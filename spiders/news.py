"""The generic `news` spider: finds articles on any configured Arabic news site.

No per-site selectors: for each source of the sources file it reads
``robots.txt`` (its ``Sitemap:`` lines), the feeds, the sitemaps (indexes,
news sitemaps, gzip) and the start pages, follows pagination and links within
bounds, and yields every candidate page as an :class:`ArticleItem`. Whether a
page is an article is decided by the clean pipeline, which counts each dropped
page by reason.

Usage: ``scrapy crawl news -a sources=FILE`` (``-a only=name1,name2`` to pick
sources).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse
from twisted.python.failure import Failure

from crawler.discovery.feeds import (
    PageLinks, classify_links, entry_modified, page_links, parse_feed, parse_sitemap, read_page_links,
    sitemaps_from_robots,
)
from crawler import meta as m
from crawler.items import ArticleItem
from crawler.meta import Hint, Kind, Via
from crawler.sources import Source, load_sources
from crawler.urls import (
    canonical_url_or_none, invalid_reason, is_probably_not_html, looks_like_non_article, split_url, url_host,
)
from crawler import stats as st

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class NewsSpider(scrapy.Spider):
    """Crawl every source of a sources file.

    Settings:
        SOURCES_FILE: the sources file when no ``-a sources=`` is given.
        DISCOVERY_MAX_REQUESTS_PER_SOURCE: fetch budget per source and run
            (bounds crawler traps; charged by crawler.scheduling.budget at download time);
            a source's ``max_requests`` overrides it.
        DISCOVERY_SCHEDULE_FACTOR: requests scheduled per source are capped at
            this many times its budget (bounds the in-memory queue).
        DISCOVERY_MAX_DEPTH: links followed away from a start page, feed or sitemap.
        DISCOVERY_MAX_PAGES_PER_SECTION: pagination depth of a section.
        DISCOVERY_SITEMAP_MAX_AGE_DAYS: sitemap entries (pages and child sitemaps)
            whose ``lastmod`` (else news publication date) is older than this many
            days are skipped; 0 keeps all. Entries without a date are kept.
        DISCOVERY_STRIP_PARAMS: query parameters removed from URLs.
    """

    name = "news"
    # set by from_crawler, from the settings above
    max_requests: int
    schedule_factor: int
    max_depth: int
    max_pages: int
    sitemap_max_age_days: int
    strip_params: list[str]

    def __init__(self, sources: str | None = None, only: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources_path = sources
        self.only = {n.strip() for n in only.split(",")} if only else None
        self.sources: dict[str, Source] = {}
        self.allowed_domains: list[str] = []
        self._domains: dict[str, str] = {}  # host -> source name
        self._queued: Counter[str] = Counter()  # requests scheduled per source
        self._scheduled: dict[str, set[str]] = {}
        self._refusals: dict[tuple[str, str, str], str | None] = {}  # (link, source, kind) -> see _refusal
        self._link_thread: ThreadPoolExecutor | None = None  # see read_page

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.sources_path = spider.sources_path or settings.get("SOURCES_FILE")
        spider.max_requests = settings.getint("DISCOVERY_MAX_REQUESTS_PER_SOURCE")
        spider.schedule_factor = max(1, settings.getint("DISCOVERY_SCHEDULE_FACTOR"))
        spider.max_depth = settings.getint("DISCOVERY_MAX_DEPTH")
        spider.max_pages = settings.getint("DISCOVERY_MAX_PAGES_PER_SECTION")
        spider.sitemap_max_age_days = settings.getint("DISCOVERY_SITEMAP_MAX_AGE_DAYS")
        spider.strip_params = settings.getlist("DISCOVERY_STRIP_PARAMS")
        sources = load_sources(spider.sources_path)
        for source in sources:
            if spider.only and source.name not in spider.only:
                continue
            spider.sources[source.name] = source
            for domain in source.allowed_domains:
                spider._domains.setdefault(domain.lower(), source.name)
        spider.allowed_domains = sorted(spider._domains)
        return spider

    # -- helpers ---------------------------------------------------------------

    def _stat(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(key, count)

    def _report(self, report: Counter[str]) -> None:
        """Count what a parser skipped (malformed URLs, broken gzip, oversized nodes) by reason."""
        for reason, count in report.items():
            self._stat(st.discovery_dropped(reason), count)

    def _source_of(self, url: str) -> str | None:
        host = url_host(url)
        while host:
            if host in self._domains:
                return self._domains[host]
            host = host.partition(".")[2]
        return None

    def _request(
        self, url: str, source: Source, kind: str, callback: Any, *, depth: int = 0, page: int = 0,
        hint: Hint | None = None, priority: int = 0, canonical: bool = True,
    ) -> scrapy.Request | None:
        """A request within the source's scheduling cap, or None (counted)."""
        if canonical:
            url = canonical_url_or_none(url, self.strip_params)  # type: ignore[assignment]
        elif invalid_reason(url) is not None:
            url = None  # type: ignore[assignment]
        if url is None:  # one malformed link: dropped and counted, the page's other links go on
            self._stat(st.discovery_dropped("invalid_url"))
            return None
        scheduled = self._scheduled.setdefault(source.name, set())
        if url in scheduled:
            return None
        budget = source.max_requests or self.max_requests
        if self._queued[source.name] >= budget * self.schedule_factor:
            self._stat(st.discovery_schedule_cap(source.name))
            return None
        scheduled.add(url)
        self._queued[source.name] += 1
        self._stat(st.discovery_requests(kind))
        meta = {m.SOURCE: source.name, m.KIND: kind, m.DEPTH: depth, m.PAGE: page,
                m.HINT: hint or {}, m.BUDGET: budget}
        if source.encoding:
            meta[m.SOURCE_ENCODING] = source.encoding
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta,
                              priority=priority, dont_filter=False)

    # -- start -----------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        for source in self.sources.values():
            for request in self._start_requests(source):
                yield request

    def _start_requests(self, source: Source) -> Iterator[scrapy.Request]:
        hosts = {f"{p.scheme}://{p.netloc}" for u in source.all_urls() if (p := split_url(u))}
        for root in sorted(hosts):
            req = self._request(urljoin(root, "/robots.txt"), source, Kind.ROBOTS, self.parse_robots,
                                priority=30, canonical=False)
            if req:
                yield req
        for url in source.feeds:
            req = self._request(url, source, Kind.FEED, self.parse_feed, priority=20)
            if req:
                yield req
        for url in source.sitemaps:
            req = self._request(url, source, Kind.SITEMAP, self.parse_sitemap, priority=20, canonical=False)
            if req:
                yield req
        for url in source.start_urls:
            req = self._request(url, source, Kind.START, self.read_page, priority=10)
            if req:
                yield req

    # -- callbacks ---------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        source = request.meta.get(m.SOURCE, "unknown")
        kind = request.meta.get(m.KIND, Kind.PAGE)
        reason = failure.type.__name__ if failure.type else "error"
        if reason == "IgnoreRequest":
            # robots.txt, offsite, incremental and budget drops are counted by
            # their middlewares; a known page skipped unfetched frees its place.
            if request.meta.get(m.INCREMENTAL_SKIPPED) and self._queued[source] > 0:
                self._queued[source] -= 1
            return
        if reason == "HttpError":
            status = failure.value.response.status  # type: ignore[union-attr]
            self._stat(st.source_key(source, st.SourceCount.HTTP_ERRORS))
            self._stat(st.source_key(source, st.SourceCount.PAGES_FETCHED))
            if kind != Kind.ROBOTS:  # a missing robots.txt just means "allow all"
                self._stat(st.discovery_http_status(status))
                logger.info("%s: %s %s answered HTTP %s", source, kind, request.url, status)
            if kind in Kind.ENTRY:
                self._stat(st.source_key(source, st.SourceCount.START_ERRORS))
            return
        self._stat(st.source_key(source, st.SourceCount.ERRORS))
        self._stat(st.source_error(source, reason))
        if kind in Kind.ENTRY or kind == Kind.ROBOTS:
            self._stat(st.source_key(source, st.SourceCount.START_ERRORS))
        logger.warning("%s: %s %s failed: %s", source, kind, request.url, failure.getErrorMessage())

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.sources[response.meta[m.SOURCE]]
        self._stat(st.source_key(source.name, st.SourceCount.PAGES_FETCHED))
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        report: Counter[str] = Counter()
        urls = sitemaps_from_robots(response.text, response.url, report)
        self._report(report)
        for url in urls:
            self._stat(st.DISCOVERY_ROBOTS_SITEMAPS)
            req = self._request(url, source, Kind.SITEMAP, self.parse_sitemap, priority=20, canonical=False)
            if req:
                yield req

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.sources[response.meta[m.SOURCE]]
        self._stat(st.source_key(source.name, st.SourceCount.PAGES_FETCHED))
        report: Counter[str] = Counter()
        kind, entries = parse_sitemap(response.body, report)
        self._report(report)
        if kind == "invalid":
            self._stat(st.source_key(source.name, st.SourceCount.INVALID_SITEMAPS))
            logger.warning("%s: not a sitemap: %s", source.name, response.url)
            return
        if kind == "urlset":  # newest first: the budget goes to new articles
            entries = sorted(entries, key=lambda e: e.published or e.lastmod or "", reverse=True)
        max_age = self.sitemap_max_age_days
        cutoff = datetime.now(UTC) - timedelta(days=max_age) if max_age > 0 else None
        for entry in entries:
            if cutoff is not None and (when := entry_modified(entry)) is not None and when < cutoff:
                self._stat(st.DISCOVERY_SITEMAP_TOO_OLD)
                continue
            if kind == "index":
                req = self._request(entry.url, source, Kind.SITEMAP, self.parse_sitemap, priority=20,
                                    canonical=False)
            else:
                self._stat(st.DISCOVERY_SITEMAP_ENTRIES)
                hint: Hint = {"title": entry.title, "published": entry.published, "lastmod": entry.lastmod,
                              "via": Via.SITEMAP}
                req = self._page_request(entry.url, source, depth=1, hint=hint)
            if req:
                yield req

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.sources[response.meta[m.SOURCE]]
        self._stat(st.source_key(source.name, st.SourceCount.PAGES_FETCHED))
        report: Counter[str] = Counter()
        entries = parse_feed(response.body, response.url, report)
        self._report(report)
        if not entries:
            self._stat(st.source_key(source.name, st.SourceCount.EMPTY_FEEDS))
        for entry in entries:
            self._stat(st.DISCOVERY_FEED_ENTRIES)
            hint: Hint = {"title": entry.title, "published": entry.published, "via": Via.FEED}
            req = self._page_request(entry.url, source, depth=1, hint=hint)
            if req:
                yield req

    def _refusal(self, url: str, source: Source, kind: str) -> str | None:
        """Why a link is not followed: a stat key, ``""`` (offsite: not counted), or None to follow it.

        A pure function of its arguments, remembered (bounded): the same links recur on every page.
        """
        key = (url, source.name, kind)
        known = self._refusals
        if key in known:
            return known[key]
        if len(known) >= 50_000:
            known.clear()
        verdict: str | None = None
        if invalid_reason(url) not in (None, "scheme"):
            verdict = st.discovery_dropped("invalid_url")
        elif is_probably_not_html(url):
            verdict = st.discovery_skipped("not_html")
        elif (reason := looks_like_non_article(url)) and kind == Kind.PAGE:
            verdict = st.discovery_skipped(reason)
        elif self._source_of(url) != source.name:
            verdict = ""
        elif source.article_url_pattern and kind == Kind.PAGE and not re.search(source.article_url_pattern, url):
            verdict = st.discovery_skipped("url_pattern")
        known[key] = verdict
        return verdict

    def _page_request(self, url: str, source: Source, *, depth: int, page: int = 0,
                      hint: Hint | None = None, kind: str = Kind.PAGE) -> scrapy.Request | None:
        refused = self._refusal(url, source, kind)
        if refused is not None:
            if refused:
                self._stat(refused)
            return None
        # Article-looking (deep) links first: listings are only the way to them.
        priority = 5 if kind == Kind.PAGE else 0
        return self._request(url, source, kind, self.read_page, depth=depth, page=page, hint=hint,
                             priority=priority - depth)

    def _open_page(self, response: Response) -> tuple[ArticleItem | None, bool]:
        """Count a fetched page; its article item (article pages only) and whether its links are followed."""
        source = self.sources[response.meta[m.SOURCE]]
        self._stat(st.source_key(source.name, st.SourceCount.PAGES_FETCHED))
        if not isinstance(response, HtmlResponse):
            self._stat(st.discovery_skipped("not_html"))
            return None, False
        item = None
        if response.meta.get(m.KIND, Kind.PAGE) == Kind.PAGE:
            hint: Hint = response.meta.get(m.HINT) or {}
            item = ArticleItem(
                url=response.url,
                site=source.name,
                fetched_at=datetime.now(UTC),
                raw_html=response.body,
                encoding=response.encoding,
                http_status=response.status,
                http_headers=[(k.decode("latin-1"), v.decode("latin-1"))
                              for k, vs in response.headers.items() for v in vs],
                discovered_via=hint.get("via", Via.PAGE),
                hint_title=hint.get("title"),
                hint_published_at=hint.get("published"),
            )
        return item, response.meta.get(m.DEPTH, 0) < self.max_depth

    def _follow(self, response: Response, found: PageLinks) -> Iterator[scrapy.Request]:
        """The requests for a page's links: pagination as listings, the rest as pages one level deeper."""
        source = self.sources[response.meta[m.SOURCE]]
        depth = response.meta.get(m.DEPTH, 0)
        links = classify_links(response.url, found.anchors, base=found.base)
        self._report(links.invalid)
        page = response.meta.get(m.PAGE, 0)
        if page < self.max_pages:
            for url in links.pagination:
                req = self._page_request(url, source, depth=depth, page=page + 1, kind=Kind.LISTING)
                if req:
                    yield req
        for url in links.links:
            req = self._page_request(url, source, depth=depth + 1)
            if req:
                yield req

    def parse_page(self, response: Response) -> Iterator[Any]:
        """A fetched page: its article item (article pages), then requests for its links.

        Synchronous, for a caller without an event loop (tests on saved responses); the crawl
        calls :meth:`read_page`, which does the same with the page's parse on the link thread.
        """
        item, follow = self._open_page(response)
        if item is not None:
            yield item
        if follow:
            # lxml directly: a parsel selector and an XPath call per link cost more than the page's parse.
            yield from self._follow(response, page_links(response.selector.root, response.url))

    async def read_page(self, response: Response) -> AsyncIterator[Any]:
        """:meth:`parse_page` for the crawl: the HTML is parsed for links on the link thread.

        libxml2 releases the GIL while it parses, so the parse (the bulk of a page's link
        reading) runs on the other core while the reactor goes on; the item leaves first.
        """
        item, follow = self._open_page(response)
        if item is not None:
            yield item
        if follow:
            if self._link_thread is None:
                self._link_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-links")
            found = await asyncio.get_running_loop().run_in_executor(
                self._link_thread, read_page_links, response.text, response.url)
            for req in self._follow(response, found):
                yield req

    def closed(self, reason: str) -> None:
        if self._link_thread is not None:
            self._link_thread.shutdown(wait=False, cancel_futures=True)
            self._link_thread = None
