"""Database models, engine and session factory (SQLAlchemy 2.x).

SQLite is the default (WAL mode, created on first use); PostgreSQL is used in
production. The schema is owned by the Alembic migrations in
``crawler/migrations``: :meth:`Database.open` upgrades to the latest revision.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///data/news.db"


def utcnow() -> datetime:
    return datetime.now(UTC)


class StorageError(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Article(Base):
    """One stored copy of an article, keyed by its canonical URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40), index=True)
    date_source: Mapped[str | None] = mapped_column(String(64))
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attribution: Mapped[str | None] = mapped_column(String(512))
    related_headlines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    lang: Mapped[str | None] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Dedup: exact hash of the matching form of the body, MinHash signature
    # bytes (with the configuration that made them, see crawler/dedup.py),
    # and the near-duplicate cluster this copy belongs to.
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    cluster_id: Mapped[str | None] = mapped_column(String(40), index=True)
    dup_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(Integer)


class RawPage(Base):
    """The fetched HTML of a stored article, zlib-compressed, for re-extraction."""

    __tablename__ = "raw_pages"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    encoding: Mapped[str | None] = mapped_column(String(32))
    html_zlib: Mapped[bytes] = mapped_column(LargeBinary)

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


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (export, stats) work while a crawl writes; NORMAL sync
    # is durable across process crashes (only an OS crash may lose the tail).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(url: str) -> Engine:
    """Create the engine for *url*; SQLite files and their folder are created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", None):
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StorageError(f"database {describe_url(url)}: driver not available ({exc})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


class Database:
    """An engine plus a session factory, built once per process.

    Use :meth:`open` to connect and migrate; then ``with db.session() as s``
    for reads and ``with db.begin() as s`` for one write transaction.
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Connect to *url*, upgrade its schema, and return the database.

        Raises:
            StorageError: the database is unreachable or unusable (one line).
        """
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (OperationalError, SQLAlchemyError) as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
            raise StorageError(
                f"database {describe_url(url)} is unreachable: {reason[0] if reason else exc}"
            ) from None
        db = cls(url, engine)
        if migrate:
            db.migrate()
        return db

    def migrate(self) -> None:
        """Upgrade the schema to the latest Alembic revision."""
        from crawler.migrations import upgrade

        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StorageError(f"database {describe_url(self.url)}: migration failed: {reason}") from None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._sessions()

    def begin(self) -> Any:
        """A session inside one transaction: ``with db.begin() as s: ...``."""
        return self._sessions.begin()

    def close(self) -> None:
        self.engine.dispose()

    def has_table(self, name: str) -> bool:
        return inspect(self.engine).has_table(name)


def _uniform(rows: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """*rows* grouped by their set of keys (an ``executemany`` needs one shape)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _dialect_insert(dialect: str) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def insert_ignore(session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: list[str]) -> Any:
    """Insert *rows*, silently skipping those whose *keys* already exist.

    Idempotent on SQLite and PostgreSQL (``ON CONFLICT DO NOTHING``), as one
    cached statement executed with many parameter sets (``executemany``): no
    per-batch SQL compilation. Other dialects fall back to a check-then-insert.
    """
    if not rows:
        return None
    dialect = session.get_bind().dialect.name
    table = model.__table__
    if dialect not in ("sqlite", "postgresql"):
        for row in rows:
            cond = [table.c[k] == row[k] for k in keys]
            if session.execute(select(table.c[keys[0]]).where(*cond)).first() is None:
                session.execute(table.insert().values(**row))
        return None
    stmt = _dialect_insert(dialect)(table).on_conflict_do_nothing(index_elements=keys)
    result = None
    for group in _uniform(rows):
        result = session.execute(stmt, group)
    return result


def upsert(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: list[str], update: Iterable[str]
) -> None:
    """Insert *rows*, updating the *update* columns where *keys* already exist."""
    if not rows:
        return
    update = list(update)
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = _dialect_insert(dialect)(model.__table__)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
        for group in _uniform(rows):
            session.execute(stmt, group)
        return
    for row in rows:
        session.merge(model(**row))


@dataclass(frozen=True)
class StoredPage:
    """The fetched page of a stored article, as kept for re-extraction."""

    url: str
    html: bytes
    encoding: str | None


def stored_page(db: Database, url: str) -> StoredPage | None:
    """The kept HTML of the article stored under *url* (canonical or as given), or None."""
    from crawler.urls import canonical_url

    with db.session() as s:
        for candidate in dict.fromkeys((url, canonical_url(url))):
            row = s.execute(
                select(Article.url, RawPage.html_zlib, RawPage.encoding)
                .join(RawPage, RawPage.article_id == Article.id)
                .where(Article.url == candidate)
            ).first()
            if row is not None:
                return StoredPage(row.url, zlib.decompress(row.html_zlib), row.encoding)
    return None


def compress_html(html: bytes) -> bytes:
    return zlib.compress(html, 6)


def database_from_crawler(crawler: Any) -> Database:
    """The one :class:`Database` of a Scrapy crawler, opened on first use.

    Every pipeline of a crawl shares it (one engine per process); the URL is
    the ``DATABASE_URL`` setting (``scrapy crawl news -s DATABASE_URL=...``,
    as the contract names it), else ``STORAGE_URL``.
    """
    db = getattr(crawler, "news_database", None)
    if db is None:
        settings = crawler.settings
        db = Database.open(settings.get("DATABASE_URL") or settings.get("STORAGE_URL") or DEFAULT_URL)
        crawler.news_database = db
    return db
