"""What a request tells the components that handle it: its kind and its ``request.meta`` keys.

The spider (``spiders/news.py``) sets the first group of keys on every request
it makes; the downloader middlewares of :mod:`crawler.scheduling` and
:mod:`crawler.discovery` read them and add their own. Every module names a
key or a kind through these constants, never through a bare string.
"""

from __future__ import annotations

from typing import Final, TypedDict


class Kind:
    """Values of ``request.meta[KIND]``: what a request fetches."""

    ROBOTS: Final = "robots"  # a host's robots.txt, read for its Sitemap: lines; never charged to the budget
    FEED: Final = "feed"  # an RSS / Atom feed of a source (fetched every run, conditionally)
    SITEMAP: Final = "sitemap"  # a sitemap or sitemap index (fetched every run, conditionally)
    START: Final = "start"  # a start page of a source (fetched every run, conditionally)
    LISTING: Final = "listing"  # a section page reached by pagination (fetched every run, conditionally)
    PAGE: Final = "page"  # a page that may be an article: it becomes an item (the default kind)

    #: kinds fetched on every run, with conditional requests (ETag / Last-Modified)
    CONDITIONAL: Final = frozenset({FEED, SITEMAP, START, LISTING})
    #: kinds whose failure means the source could not be read at all (``source/<name>/start_errors``)
    ENTRY: Final = frozenset({START, FEED, SITEMAP})


class StateKind:
    """Values of ``url_state.kind``: what the database remembers about a URL.

    Rows of feeds, sitemaps, start and listing pages carry their request
    :class:`Kind` (with their ETag / Last-Modified validators).
    """

    ARTICLE: Final = "article"  # stored as an article (under this or its canonical URL): not fetched again
    NOT_ARTICLE: Final = "not_article"  # dropped by the cleaner or answered 404/410: not fetched again
    LISTING: Final = Kind.LISTING  # dropped, but a section page: fetched again on every run

    #: kinds of URLs not fetched again
    KNOWN: Final = frozenset({ARTICLE, NOT_ARTICLE})


class Via:
    """Values of ``Hint["via"]`` (and of ``ArticleItem.discovered_via``): how a page was found."""

    FEED: Final = "feed"  # an entry of a feed
    SITEMAP: Final = "sitemap"  # an entry of a sitemap
    PAGE: Final = "page"  # a link on a page (the default)


class Hint(TypedDict, total=False):
    """``request.meta[HINT]``: what a feed or sitemap entry said about the page it points to."""

    title: str | None  # the entry's headline (used when the page has none)
    published: str | None  # the entry's publication date (used when the page has none)
    lastmod: str | None  # a sitemap <lastmod>: a stored page is fetched again when this is newer
    via: str  # a Via value


# -- set by the spider on every request ------------------------------------------------------
SOURCE: Final = "source"  # str: the name (sources file) of the source the request belongs to
KIND: Final = "kind"  # str: a Kind value (absent: Kind.PAGE)
DEPTH: Final = "news_depth"  # int: links followed from a start page, feed or sitemap (0 for those)
PAGE: Final = "news_page"  # int: pagination steps taken within a section
HINT: Final = "hint"  # Hint: what the feed or sitemap entry said (empty dict otherwise)
BUDGET: Final = "budget"  # int: the source's fetch budget of this run (crawler.scheduling.budget)
SOURCE_ENCODING: Final = "source_encoding"  # str: the codec the source forces (crawler.discovery.encoding)

# -- set by the incremental middlewares (crawler.scheduling.incremental) ---------------------
INCREMENTAL_STATE: Final = "incremental_state"  # dict | None: the page's url_state row, looked up once
INCREMENTAL_SKIPPED: Final = "incremental_skipped"  # bool: skipped as already known (the spider refunds its budget)
INCREMENTAL_REFETCH: Final = "incremental_refetch"  # str: why a known page is fetched again ("lastmod", "recheck")
INCREMENTAL_CONDITIONAL: Final = "incremental_conditional"  # bool: sent with If-None-Match / If-Modified-Since
INCREMENTAL_UNCONDITIONAL: Final = "incremental_unconditional"  # bool: set by a caller to never send validators

# -- set by the shared crawl (crawler.scheduling.shared, .workers, .politeness) ------------
SHARED_LEASE: Final = "shared_lease"  # str: the in-flight lease of a request taken from the shared queue
SHARED_HANDOFF: Final = "shared_handoff"  # bool: taken by the idle poll, kept in this worker's scheduler
SHARED_DOMAIN_LEASE: Final = "shared_domain_lease"  # (str, str): the per-domain concurrency lease held
SHARED_GATE_PENDING: Final = "shared_gate_pending"  # str: taken from the queue, not yet past the gate (its domain)

# -- set by Scrapy -------------------------------------------------------------------------
REDIRECT_URLS: Final = "redirect_urls"  # list[str]: the URLs redirected from (RedirectMiddleware)
DOWNLOAD_SLOT: Final = "download_slot"  # str: the downloader slot a request asks for (its host otherwise)

