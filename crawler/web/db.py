"""Open the database for reading only: a running crawl is never disturbed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from crawler.storage.database import Database, StorageError, describe_url


def _sqlite_engine(path: str) -> Engine:
    file = Path(path).expanduser()
    if not file.is_file():
        raise StorageError(f"database {path}: no such file (run a crawl or `make demo` first)")
    uri = f"file:{quote(str(file.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)

    # The URL names the file (what stats and /api/stats show); connections come from *connect*.
    engine = create_engine(f"sqlite:///{path}", creator=connect, poolclass=QueuePool, pool_size=4, max_overflow=4)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=1")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    return engine


def _server_engine(url: str) -> Engine:
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("", None):
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args = {"connect_timeout": 10, "options": "-c default_transaction_read_only=on"}
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def open_readonly(url: str) -> Database:
    """The database at *url*, opened for reading only, checked to have the search index.

    Raises:
        StorageError: unreachable, not a crawler database, or at an older schema (one line).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            if not parsed.database or parsed.database == ":memory:":
                raise StorageError("serve needs a database file or server, not an in-memory database")
            engine = _sqlite_engine(parsed.database)
        else:
            engine = _server_engine(url)
    except (NoSuchModuleError, ImportError) as exc:
        raise StorageError(f"database {describe_url(url)}: driver not available ({exc})") from None
    try:
        tables = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
        raise StorageError(f"database {describe_url(url)} is unreachable: {reason[0] if reason else exc}") from None
    if "articles" not in tables:
        engine.dispose()
        raise StorageError(f"database {describe_url(url)} holds no crawl (no articles table)")
    if "article_search" not in tables:
        engine.dispose()
        raise StorageError(
            f"database {describe_url(url)} has an older schema without the search index: upgrade it once with "
            f"`python -m crawler stats --db URL` (it indexes the stored articles; serve itself never writes)")
    return Database(url, engine)
