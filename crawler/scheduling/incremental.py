"""Incremental crawling: never fetch twice what the database already knows.

Two downloader middlewares, each plugged in by one ``DOWNLOADER_MIDDLEWARES``
entry, and a bounded duplicate filter (``DUPEFILTER_CLASS``, :mod:`crawler.scheduling.dupefilter`):

:class:`SkipStoredMiddleware`
    An article page whose URL is stored (``articles.url``) or remembered as
    not an article (``url_state``) is not fetched again -- ``IgnoreRequest``,
    counted as ``incremental/skipped_stored`` -- unless it is older than
    ``INCREMENTAL_RECHECK_HOURS`` or its sitemap ``<lastmod>`` is newer than
    what is stored. The look-ups run off the reactor, on the middleware's own
    thread, the requests that arrive together sharing one ``IN`` query
    (:class:`crawler.offload.BatchQueue`; no URL set is loaded in memory).
    Pages dropped by the clean pipeline are written to
    ``url_state`` (``not_article``; ``listing`` for section pages, which are
    always fetched again).
:class:`ConditionalRequestMiddleware`
    Feeds, sitemaps, start and listing pages are fetched with
    ``If-None-Match`` / ``If-Modified-Since`` from the validators stored in
    ``url_state`` (looked up off the reactor likewise); a 304 means nothing new there (``incremental/not_modified``).
    Validators are saved only when the run finished and the source had no
    errors, so a killed or failing run never hides what it did not fetch.
:class:`crawler.scheduling.dupefilter.BoundedDupeFilter`
    Scrapy's request dupefilter with an LRU of at most
    ``INCREMENTAL_DUPEFILTER_MAX`` fingerprints instead of an ever-growing set.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from sqlalchemy import select

from crawler import meta as m
from crawler.items import NotArticle
from crawler.meta import Kind, StateKind
from crawler.offload import BatchQueue, asyncio_loop_available
from crawler.storage.bulk import upsert
from crawler.scheduling.services import CrawlServices
from crawler.storage.database import Database
from crawler.storage.models import Article, UrlState
from crawler.storage.writer import AlreadyStored
from crawler import stats as st

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

#: request kinds (``request.meta[KIND]``) that are always fetched, conditionally
CONDITIONAL_KINDS = Kind.CONDITIONAL
#: url_state kinds of pages that are not fetched again
KNOWN_KINDS = StateKind.KNOWN
_STATE_COLUMNS = ("kind", "reason", "lastmod", "fetched_at", "site")
#: URLs per ``IN (...)`` look-up query
_LOOKUP_CHUNK = 500


class Lookups:
    """Batched, off-reactor look-ups of one middleware: ``await lookups.get(url)``.

    The requests that reach the middleware while a look-up runs (up to
    INCREMENTAL_LOOKUP_BATCH) are looked up together, on a thread of their
    own (reads do not wait for the writes of the pipelines).
    """

    def __init__(self, fetch_many: Any, size: int, name: str) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.queue: BatchQueue[str, Any] = BatchQueue(fetch_many, self.executor, size=size)

    @classmethod
    def for_crawler(cls, crawler: Crawler, fetch_many: Any, name: str) -> Lookups | None:
        """None (look up synchronously) outside an asyncio reactor or with INCREMENTAL_LOOKUP_BATCH 0."""
        size = crawler.settings.getint("INCREMENTAL_LOOKUP_BATCH")
        if size <= 0 or not asyncio_loop_available():
            return None
        return cls(fetch_many, size, name)

    async def get(self, url: str) -> Any:
        return await self.queue.submit(url)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _chunks(urls: list[str]) -> Any:
    unique = sorted(set(urls))
    for i in range(0, len(unique), _LOOKUP_CHUNK):
        yield unique[i:i + _LOOKUP_CHUNK]


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_lastmod(value: str | None) -> datetime | None:
    """A sitemap ``<lastmod>`` (W3C date or date-time) as an aware datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return as_utc(parsed)


def decide(now: datetime, recheck_hours: float, article_fetched: datetime | None,
           state: dict[str, Any] | None, hint_lastmod: str | None) -> str:
    """Why a page request is fetched (``new``, ``listing``, ``lastmod``, ``recheck``) or ``skip``."""
    kind = state.get("kind") if state else None
    if kind and kind not in KNOWN_KINDS:
        return "listing"
    if article_fetched is None and kind is None:
        return "new"
    seen = [t for t in (as_utc(article_fetched), as_utc(state.get("fetched_at")) if state else None) if t]
    last_seen = max(seen) if seen else None
    stored_mark = parse_lastmod(state.get("lastmod")) if state else None
    stored_mark = stored_mark or last_seen
    lastmod = parse_lastmod(hint_lastmod)
    if lastmod and stored_mark and lastmod > stored_mark:
        return "lastmod"
    if recheck_hours > 0 and last_seen and now - last_seen > timedelta(hours=recheck_hours):
        return "recheck"
    return "skip"


def original_url(response: Response) -> str:
    """The URL first requested (before redirects): the key the next run looks up."""
    redirects = response.meta.get(m.REDIRECT_URLS)
    return redirects[0] if redirects else response.request.url if response.request else response.url


class UrlStateWriter:
    """Buffered ``url_state`` upserts shared by the middlewares of one crawl (``CrawlServices.url_state``)."""

    def __init__(self, db: Database, batch_size: int = 200) -> None:
        self.db = db
        self.batch_size = max(1, batch_size)
        self._rows: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}

    def add(self, row: dict[str, Any], update: tuple[str, ...] = _STATE_COLUMNS) -> None:
        """Queue one row (``url``, ``site``, ``kind``, ...); *update* names the columns it sets."""
        row = {"reason": None, "etag": None, "last_modified": None, "lastmod": None,
               "fetched_at": datetime.now(UTC), **row}
        bucket = self._rows.setdefault(update, {})
        bucket[row["url"]] = row
        if sum(len(b) for b in self._rows.values()) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write every queued row (one transaction)."""
        if not self._rows:
            return
        buckets, self._rows = self._rows, {}
        with self.db.begin() as session:
            for update, rows in buckets.items():
                upsert(session, UrlState, list(rows.values()), ["url"], update)


class SkipStoredMiddleware:
    """Skip article pages already stored or known not to be articles.

    Settings:
        INCREMENTAL_ENABLED: skip what is stored (default True).
        INCREMENTAL_RECHECK_HOURS: fetch a stored page again after this many
            hours (0: never; a newer sitemap ``<lastmod>`` always does).
        INCREMENTAL_STATE_BATCH: ``url_state`` rows per write.
        INCREMENTAL_LISTING_LINKS: a dropped page with this many headline-like
            links is a section (``listing``), fetched again on every run.
    """

    def __init__(self, crawler: Crawler, db: Database, writer: UrlStateWriter, recheck_hours: float,
                 listing_links: int = 8) -> None:
        self.crawler = crawler
        self.listing_links = listing_links
        self.stats = crawler.stats
        self.db = db
        self.writer = writer
        self.recheck_hours = recheck_hours
        # The validators come along so that ConditionalRequestMiddleware need not read a listing's row again.
        self._state_q = select(UrlState.kind, UrlState.lastmod, UrlState.fetched_at, UrlState.etag,
                               UrlState.last_modified)
        self.lookups: Lookups | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipStoredMiddleware:
        if not crawler.settings.getbool("INCREMENTAL_ENABLED"):
            raise NotConfigured("INCREMENTAL_ENABLED is off")
        services = CrawlServices.of(crawler)
        mw = cls(crawler, services.database, services.url_state,
                 crawler.settings.getfloat("INCREMENTAL_RECHECK_HOURS"),
                 crawler.settings.getint("INCREMENTAL_LISTING_LINKS"))
        mw.lookups = Lookups.for_crawler(crawler, mw.lookup_many, "incremental-lookups")
        crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(mw.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def lookup(self, url: str) -> tuple[datetime | None, dict[str, Any] | None]:
        """What the database knows of *url*: the article's fetch time and its url_state row."""
        return self.lookup_many([url])[0]

    def lookup_many(self, urls: list[str]) -> list[tuple[datetime | None, dict[str, Any] | None]]:
        """:meth:`lookup` of many URLs: two ``IN`` queries per 500 URLs."""
        fetched: dict[str, datetime | None] = {}
        states: dict[str, dict[str, Any]] = {}
        with self.db.engine.connect() as conn:
            for chunk in _chunks(urls):
                fetched.update(conn.execute(select(Article.url, Article.fetched_at)
                                            .where(Article.url.in_(chunk))).all())
                for row in conn.execute(select(UrlState.url, *self._state_q.selected_columns)
                                        .where(UrlState.url.in_(chunk))):
                    state = dict(row._mapping)
                    states[state.pop("url")] = state
        return [(fetched.get(u), states.get(u)) for u in urls]

    def process_request(self, request: Request) -> None | Awaitable[None]:
        if request.meta.get(m.KIND, Kind.PAGE) != Kind.PAGE:
            return None
        if self.lookups is not None:
            return self._process_looked_up(request)
        self._decide(request, *self.lookup(request.url))
        return None

    async def _process_looked_up(self, request: Request) -> None:
        self._decide(request, *await self.lookups.get(request.url))  # type: ignore[union-attr]

    def _decide(self, request: Request, fetched: datetime | None, state: dict[str, Any] | None) -> None:
        """Skip (``IgnoreRequest``) or let *request* through, from what the database knows of it."""
        request.meta[m.INCREMENTAL_STATE] = state
        hint = request.meta.get(m.HINT) or {}
        verdict = decide(datetime.now(UTC), self.recheck_hours, fetched, state, hint.get("lastmod"))
        if verdict == "skip":
            source = request.meta.get(m.SOURCE, "unknown")
            self.stats.inc_value(st.INCREMENTAL_SKIPPED_STORED)
            known = st.SourceCount.SKIPPED_STORED \
                if fetched is not None or (state or {}).get("kind") == StateKind.ARTICLE \
                else st.SourceCount.SKIPPED_NOT_ARTICLE
            self.stats.inc_value(st.source_key(source, known))
            if hint.get("lastmod"):
                self.stats.inc_value(st.INCREMENTAL_SKIPPED_LASTMOD)
            request.meta[m.INCREMENTAL_SKIPPED] = True  # the spider refunds its budget
            raise IgnoreRequest(f"already stored: {request.url}")
        if verdict in ("lastmod", "recheck"):
            request.meta[m.INCREMENTAL_REFETCH] = verdict
            self.stats.inc_value(st.incremental_refetch(verdict))

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(m.KIND) == Kind.PAGE and response.status in (404, 410):
            self.writer.add({"url": request.url, "site": request.meta.get(m.SOURCE, "unknown"),
                             "kind": StateKind.NOT_ARTICLE, "reason": f"http_{response.status}"})
        return response

    # -- signals ---------------------------------------------------------------------
    def _row(self, url: str, response: Response, kind: str, reason: str | None, site: str) -> dict[str, Any]:
        hint = response.meta.get(m.HINT) or {}
        return {"url": url, "site": site, "kind": kind, "reason": reason, "lastmod": hint.get("lastmod")}

    def item_scraped(self, item: Any, response: Response | None = None, **_: Any) -> None:
        if response is None or not hasattr(item, "url"):
            return
        first = original_url(response)
        hint = response.meta.get(m.HINT) or {}
        if first != item.url or hint.get("lastmod") or response.meta.get(m.INCREMENTAL_REFETCH):
            for url in {first, item.url}:
                self.writer.add(self._row(url, response, StateKind.ARTICLE, None, item.site))

    def _is_hub(self, response: Response) -> bool:
        """A page with many headline-like links (a section) is fetched again each run."""
        try:
            links = response.xpath("//a[string-length(normalize-space(.)) > 20]/@href").getall()
        except (AttributeError, ValueError):
            return False
        return len(set(links)) >= self.listing_links

    def item_dropped(self, item: Any, response: Response | None = None, exception: BaseException | None = None,
                     **_: Any) -> None:
        if isinstance(exception, AlreadyStored):  # an article, not a verdict on the page
            self.item_scraped(item, response)
            return
        if response is None or not hasattr(item, "url"):
            return
        reason = exception.reason if isinstance(exception, NotArticle) else "dropped"
        kind = StateKind.LISTING if reason == "listing_page" or self._is_hub(response) else StateKind.NOT_ARTICLE
        for url in {original_url(response), item.url}:
            self.writer.add(self._row(url, response, kind, reason, item.site))
        self.stats.inc_value(st.incremental_remembered(kind))

    def spider_closed(self, **_: Any) -> None:
        if self.lookups is not None:
            self.lookups.close()
        self.writer.flush()


class ConditionalRequestMiddleware:
    """Conditional requests (ETag, Last-Modified) for feeds, sitemaps, start and listing pages.

    Settings:
        INCREMENTAL_CONDITIONAL: send conditional requests (default True).
    """

    def __init__(self, crawler: Crawler, db: Database, writer: UrlStateWriter) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db = db
        self.writer = writer
        self._validators: dict[str, dict[str, Any]] = {}
        self._item_errors = 0
        self.lookups: Lookups | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not (crawler.settings.getbool("INCREMENTAL_ENABLED")
                and crawler.settings.getbool("INCREMENTAL_CONDITIONAL")):
            raise NotConfigured("INCREMENTAL_CONDITIONAL is off")
        services = CrawlServices.of(crawler)
        mw = cls(crawler, services.database, services.url_state)
        mw.lookups = Lookups.for_crawler(crawler, mw.validators_many, "conditional-lookups")
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(mw.item_error, signal=signals.item_error)
        return mw

    def _kind(self, request: Request) -> str | None:
        kind = request.meta.get(m.KIND, Kind.PAGE)
        if kind in CONDITIONAL_KINDS:
            return kind
        state = request.meta.get(m.INCREMENTAL_STATE)
        return Kind.LISTING if kind == Kind.PAGE and state and state.get("kind") == StateKind.LISTING else None

    def validators_many(self, urls: list[str]) -> list[tuple[str | None, str | None] | None]:
        """The stored (ETag, Last-Modified) of each URL, or None: one ``IN`` query per 500 URLs."""
        found: dict[str, tuple[str | None, str | None]] = {}
        with self.db.engine.connect() as conn:
            for chunk in _chunks(urls):
                for url, etag, modified in conn.execute(
                        select(UrlState.url, UrlState.etag, UrlState.last_modified).where(UrlState.url.in_(chunk))):
                    found[url] = (etag, modified)
        return [found.get(u) for u in urls]

    def process_request(self, request: Request) -> None | Awaitable[None]:
        kind = self._kind(request)
        if kind is None or request.meta.get(m.INCREMENTAL_UNCONDITIONAL):
            return None
        state = request.meta.get(m.INCREMENTAL_STATE)
        if state and "etag" in state:  # a listing page: SkipStoredMiddleware has read its row already
            self._condition(request, (state["etag"], state["last_modified"]))
            return None
        if self.lookups is not None:
            return self._process_looked_up(request)
        self._condition(request, self.validators_many([request.url])[0])
        return None

    async def _process_looked_up(self, request: Request) -> None:
        self._condition(request, await self.lookups.get(request.url))  # type: ignore[union-attr]

    @staticmethod
    def _condition(request: Request, row: tuple[str | None, str | None] | None) -> None:
        """Make *request* conditional on the stored validators *row* (ETag, Last-Modified)."""
        if row is None:
            return
        etag, modified = row
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = modified
        request.meta[m.INCREMENTAL_CONDITIONAL] = True

    def process_response(self, request: Request, response: Response) -> Response:
        kind = self._kind(request)
        if kind is None:
            return response
        source = request.meta.get(m.SOURCE, "unknown")
        if response.status == 304 and request.meta.get(m.INCREMENTAL_CONDITIONAL):
            self.stats.inc_value(st.INCREMENTAL_NOT_MODIFIED)
            self.stats.inc_value(st.source_key(source, st.SourceCount.NOT_MODIFIED))
            raise IgnoreRequest(f"not modified: {request.url}")
        if response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                self._validators[request.url] = {
                    "url": request.url, "site": source, "kind": kind,
                    "etag": etag.decode("latin-1")[:256] if etag else None,
                    "last_modified": modified.decode("latin-1")[:64] if modified else None,
                }
        return response

    def item_error(self, **_: Any) -> None:
        self._item_errors += 1

    def spider_closed(self, reason: str = "", **_: Any) -> None:
        """Save validators of the sources whose pages were all fetched and stored."""
        if self.lookups is not None:
            self.lookups.close()
        if reason != "finished" or self._item_errors:
            logger.info("not saving conditional-request validators (run %s, %d item errors)",
                        reason, self._item_errors)
            return
        stats = self.stats.get_stats()
        healthy = 0
        for row in self._validators.values():
            site = row["site"]
            if stats.get(st.source_key(site, st.SourceCount.ERRORS)) or stats.get(st.discovery_budget_exhausted(site)):
                continue
            self.writer.add(row, ("kind", "etag", "last_modified", "fetched_at", "site"))
            healthy += 1
        self.writer.flush()
        logger.debug("saved validators of %d of %d URLs", healthy, len(self._validators))
