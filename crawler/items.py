"""Items passed from the spider through the pipelines (accessed via ItemAdapter)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scrapy.exceptions import DropItem


@dataclass
class ArticleItem:
    """One fetched page that may be an article.

    The spider fills the fetch fields; ``ArticleCleaner`` fills the extracted
    ones; ``Deduplicator`` fills the signature and cluster fields;
    ``ArticleWriter`` writes it (each through its pipeline in a crawl).
    """

    # Filled by the spider.
    url: str
    site: str
    fetched_at: datetime
    raw_html: bytes = b""
    encoding: str | None = None
    http_status: int = 200
    http_headers: list[tuple[str, str]] | None = None  # response headers as fetched, in order
    discovered_via: str | None = None  # a crawler.meta.Via: "feed", "sitemap", "page"
    hint_title: str | None = None  # from a news sitemap or feed entry
    hint_published_at: str | None = None
    # Filled by the clean pipeline.
    title: str = ""
    text: str = ""
    published_at: str | None = None
    date_source: str | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    attribution: str | None = None
    related_headlines: list[dict[str, Any]] = field(default_factory=list)
    lang: str | None = None
    boilerplate_removed: int = 0
    # Filled by the dedup pipeline.
    content_hash: str | None = None
    signature: bytes | None = None
    cluster_id: str | None = None
    dup_of_url: str | None = None
    dup_method: str | None = None
    dup_score: float | None = None


@dataclass
class ArticleRecord:
    """One stored article as the contract's article record (CONTRACT.md, "Article records").

    What ``StorePipeline`` returns for each article it stores, so what
    ``scrapy crawl news -o FILE`` writes; built by
    :func:`article_record` (below), which ``export --all-copies`` uses too:
    dates as ISO strings, lists as lists, ``duplicate_urls`` empty (one record
    per copy). Internal fields (raw page, signature, content
    hash) have no place here.
    """

    url: str
    site: str
    title: str
    text: str
    published_at: str | None
    authors: list[str]
    tags: list[str]
    attribution: str | None
    cluster_id: str
    duplicate_urls: list[str]
    fetched_at: str | None


def article_record(values: Mapping[str, Any]) -> ArticleRecord:
    """The record of one stored copy (``duplicate_urls`` empty), from its column *values*.

    The one place a record is built: ``export`` passes database rows, the
    crawl's ``StorePipeline`` the items it stores (``scrapy crawl news -o``),
    so a feed and ``export --all-copies`` give the same records.
    """
    return ArticleRecord(
        url=values["url"], site=values["site"], title=values["title"], text=values["text"],
        published_at=values["published_at"], authors=list(values["authors"] or []),
        tags=list(values["tags"] or []), attribution=values["attribution"],
        cluster_id=values["cluster_id"] or "", duplicate_urls=[], fetched_at=iso_datetime(values["fetched_at"]),
    )


def iso_datetime(value: Any) -> str | None:
    """An ISO 8601 string in UTC for a datetime (naive ones are UTC, as SQLite returns them)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return str(value)


class NotArticle(DropItem):
    """A fetched page (or an imported record) that is not an article.

    Raised by :class:`crawler.extract.cleaner.ArticleCleaner`; whoever handles
    the drop (the incremental middleware, the run recorder, the importer) reads
    :attr:`reason` instead of parsing the message.

    Args:
        reason: why, as counted in ``clean/dropped/<reason>`` (``too_short``,
            ``no_title``, ``not_arabic``, ``listing_page``, ...).
        url: the page's URL, for the log line.
        log_level: the level of Scrapy's "Dropped" log line (an expected drop: INFO).
    """

    def __init__(self, reason: str, url: str = "", log_level: str | None = "INFO") -> None:
        super().__init__(f"not an article ({reason}): {url}", log_level=log_level)
        self.reason = reason
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:  # picklable with its reason (import workers)
        return (type(self), (self.reason, self.url, self.log_level))
