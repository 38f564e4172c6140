"""Every table of the crawler's database (SQLAlchemy 2.x declarative models).

The schema is owned by the Alembic migrations in ``crawler/storage/migrations``;
these classes are what the code reads and writes.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Article(Base):
    """One stored copy of an article, keyed by its canonical URL."""

    __tablename__ = "articles"
    # articles per day per source (serve's overview): a covering range scan;
    # articles and last fetch per source (stats): a covering scan
    __table_args__ = (Index("ix_articles_published_site", "published_at", "site"),
                      Index("ix_articles_site_fetched", "site", "fetched_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    site: Mapped[str] = mapped_column(String(64))  # indexed by ix_articles_site_fetched
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40))  # indexed by ix_articles_published_site
    date_source: Mapped[str | None] = mapped_column(String(64))
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attribution: Mapped[str | None] = mapped_column(String(512))
    related_headlines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    lang: Mapped[str | None] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Dedup: exact hash of the matching form of the body, MinHash signature
    # bytes (with the configuration that made them, see crawler/dedup/minhash.py),
    # and the near-duplicate cluster this copy belongs to.
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    cluster_id: Mapped[str | None] = mapped_column(String(40), index=True)
    dup_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(Integer)


class RawPage(Base):
    """The fetched HTML of a stored article, zlib-compressed, for re-extraction and WARC export."""

    __tablename__ = "raw_pages"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    encoding: Mapped[str | None] = mapped_column(String(32))
    html_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    # As fetched (migration 0003; NULL for pages stored before): the status
    # code and the response headers as [name, value] pairs, in order.
    http_status: Mapped[int | None] = mapped_column(Integer)
    http_headers: Mapped[list[Any] | None] = mapped_column(JSON)

    @property
    def html(self) -> bytes:
        return zlib.decompress(self.html_zlib)


class UrlState(Base):
    """What the crawl knows of a URL it fetched: the seen-set, kept on disk.

    Non-article pages are remembered so that the next run does not fetch them
    again; feeds, sitemaps and section pages keep their validators (ETag,
    Last-Modified) for conditional requests.
    """

    __tablename__ = "url_state"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # article, not_article, listing, error
    reason: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    lastmod: Mapped[str | None] = mapped_column(String(40))  # from a sitemap
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SiteTemplateRow(Base):
    """The learned boilerplate template of one site (crawler.extract.SiteTemplate)."""

    __tablename__ = "site_templates"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CrawlRun(Base):
    """One run of `crawl`: when, how it ended, and its counts per source."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # running, finished, failed, killed
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    pages_fetched: Mapped[int] = mapped_column(BigInteger, default=0)
    articles_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates_merged: Mapped[int] = mapped_column(BigInteger, default=0)
    per_source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MergeRecord(Base):
    """Why a copy joined a cluster: for explaining and undoing merges."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # article, headline
    member: Mapped[str] = mapped_column(String(2048), index=True)
    matched: Mapped[str] = mapped_column(String(2048), index=True)
    cluster_id: Mapped[str] = mapped_column(String(40), index=True)
    method: Mapped[str] = mapped_column(String(32))  # url, exact, minhash, ngram
    score: Mapped[float | None] = mapped_column(Float)
    config: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- de-duplication index (crawler/dedup/index.py) ---------------------------


class DedupConfigRow(Base):
    """Fingerprint of the configuration behind one index."""

    __tablename__ = "dedup_config"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DedupDoc(Base):
    """An indexed article copy (may dangle if the crawl died before storing it)."""

    __tablename__ = "dedup_docs"

    doc: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(String(2048))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    cluster_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DedupBand(Base):
    """One LSH band key of one indexed article copy."""

    __tablename__ = "dedup_bands"
    __table_args__ = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    doc: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class HeadlineVariant(Base):
    """One distinct headline spelling, its normalised key and its cluster."""

    __tablename__ = "headline_variants"

    variant: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # id of the spelling
    key_id: Mapped[int] = mapped_column(BigInteger, index=True)  # id of the normalised key
    cluster_id: Mapped[str] = mapped_column(String(40), index=True)
    text: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HeadlineBand(Base):
    """One LSH band key of one headline variant."""

    __tablename__ = "headline_bands"
    __table_args__ = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    variant: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class HeadlineOccurrence(Base):
    """A headline seen on a page: its title (pos 0) or entry *pos* of a related list."""

    __tablename__ = "headline_occurrences"

    page_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # title, related
    pos: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    variant: Mapped[int] = mapped_column(BigInteger, index=True)
    url: Mapped[str | None] = mapped_column(String(2048), index=True)  # the article it points to or stands on
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
