"""The database: engine, session factory, schema upgrade and stored pages (SQLAlchemy 2.x).

SQLite is the default (WAL mode, created on first use); PostgreSQL is used in
production. The schema is owned by the Alembic migrations in
``crawler/storage/migrations``: :meth:`Database.open` upgrades to the latest revision.
"""

from __future__ import annotations

import logging
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.storage.models import Article, RawPage

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///data/news.db"


class StorageError(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


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
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The one thread on which a crawl runs its batched writes, off the reactor (created on first use).

        One thread: the batches of every pipeline run one at a time, in order,
        and never wait on each other's SQLite lock.
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writes")
        return self._executor

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
        from crawler.storage.migrations import upgrade

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

    def begin(self) -> AbstractContextManager[Session]:
        """A session inside one transaction: ``with db.begin() as s: ...``."""
        return self._sessions.begin()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()

    def has_table(self, name: str) -> bool:
        return inspect(self.engine).has_table(name)


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

