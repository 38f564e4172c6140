"""Items passed from the spider through the pipelines (accessed via ItemAdapter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    discovered_via: str | None = None  # "feed", "sitemap", "page"
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
    :func:`crawler.storage.export.article_record`, as ``export --all-copies``
    builds its records: dates as ISO strings, lists as lists, ``duplicate_urls``
    empty (one record per copy). Internal fields (raw page, signature, content
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
