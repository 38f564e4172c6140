"""One crawl at a time per database: the overlap lock of cron runs.

SQLite: an exclusive ``fcntl.flock`` on ``<db file>.lock`` next to the
database, with the holder's pid, host and start time written in it.
PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection held for the
whole crawl, whose ``application_name`` names the holder. The workers of a
shared crawl (``crawl --redis``) take the same lock in *shared* mode
(``LOCK_SH`` / ``pg_try_advisory_lock_shared``): they run together, while a
normal crawl, which takes it exclusively, exits 75 as long as one of them
runs (and the other way round). Both locks die with
their process, so a lock left by a killed crawl is simply free again: there
is no stale-lock cleanup to get wrong. Other databases fall back to a lock
file in the system temporary folder keyed by the database URL.

Usage::

    with crawl_lock(url):        # raises LockHeld at once if taken
        run_crawl(...)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
import struct
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["CrawlLock", "LockHeld", "crawl_lock", "lock_key"]

#: exit code of a crawl that finds the lock taken (EX_TEMPFAIL)
EXIT_LOCKED = 75
APP_PREFIX = "arabic-news-crawler"


class LockHeld(RuntimeError):
    """Another crawl holds the lock; the message names it (one line)."""

    def __init__(self, message: str, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for *name*."""
    return struct.unpack(">q", hashlib.sha1(name.encode()).digest()[:8])[0]


def _holder_text(shared: bool = False) -> str:
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid={os.getpid()} host={socket.gethostname()} started={started}" + (" mode=shared" if shared else "")


def _parse_holder(text: str) -> dict[str, str]:
    out = {}
    for part in text.split():
        key, sep, value = part.partition("=")
        if sep:
            out[key] = value
    return out


class CrawlLock:
    """The overlap lock of one database.

    Args:
        url: the database's SQLAlchemy URL.
        name: the lock's name (one lock per name per database).
        shared: take the lock in shared mode (the workers of a shared crawl):
            shared holders coexist, an exclusive holder excludes them all.
    """

    def __init__(self, url: str, name: str = "crawl", *, shared: bool = False) -> None:
        self.url = url
        self.name = name
        self.shared = shared
        self._fd: int | None = None
        self._conn: Any = None
        self.path: Path | None = None

    # -- file lock (SQLite and fallback) ----------------------------------------------
    def _lock_path(self) -> Path:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                db_path = Path(database).expanduser().resolve()
                suffix = "" if self.name == "crawl" else f".{self.name}"
                return db_path.with_name(db_path.name + suffix + ".lock")
        digest = hashlib.sha1(f"{self.url}|{self.name}".encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"{APP_PREFIX}-{digest}.lock"

    def _acquire_file(self) -> None:
        path = self._lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            holder = _parse_holder(text)
            raise LockHeld(
                f"another crawl holds the lock on this database ({_describe(holder) or 'unknown holder'};"
                f" lock file {path})", holder) from None
        os.ftruncate(fd, 0)  # shared holders: the last one to start is named
        os.pwrite(fd, (_holder_text(self.shared) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd, self.path = fd, path

    # -- advisory lock (PostgreSQL) ---------------------------------------------------
    def _acquire_pg(self) -> None:
        import psycopg

        parsed = make_url(self.url).set(drivername="postgresql")
        dsn = parsed.render_as_string(hide_password=False)
        app = f"crawl {_holder_text()}"[:63]  # PostgreSQL keeps 63 bytes
        if self.shared:
            app = f"crawl pid={os.getpid()} host={socket.gethostname()}"[:51] + " mode=shared"
        conn = psycopg.connect(dsn, autocommit=True, application_name=app, connect_timeout=10)
        key = lock_key(f"{APP_PREFIX}:{self.name}")
        func = "pg_try_advisory_lock_shared" if self.shared else "pg_try_advisory_lock"
        got = conn.execute(f"SELECT {func}(%s)", (key,)).fetchone()[0]
        if got:
            self._conn = conn
            return
        row = conn.execute(
            "SELECT a.application_name, a.client_addr::text, a.pid FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
            (key,),
        ).fetchone()
        conn.close()
        holder = _parse_holder(row[0]) if row and row[0] else {}
        if row and not holder:
            holder = {"backend": str(row[2]), "client": str(row[1])}
        raise LockHeld(f"another crawl holds the lock on this database ({_describe(holder) or 'unknown holder'};"
                       " PostgreSQL advisory lock)", holder)

    # -- public -----------------------------------------------------------------------
    def acquire(self) -> CrawlLock:
        """Take the lock at once or raise :class:`LockHeld`; returns self."""
        if make_url(self.url).get_backend_name() == "postgresql":
            self._acquire_pg()
        else:
            self._acquire_file()
        logger.debug("crawl lock taken (%s)", self.path or "advisory")
        return self

    def release(self) -> None:
        """Give the lock back (also done by the OS when the process dies)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if not self.shared:  # other shared holders may still run
                    os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            # Unlocked explicitly before closing: the server drops a closed session's locks a moment
            # later, and a crawl started right after this one must find the lock free.
            with contextlib.suppress(Exception):
                func = "pg_advisory_unlock_shared" if self.shared else "pg_advisory_unlock"
                self._conn.execute(f"SELECT {func}(%s)", (lock_key(f"{APP_PREFIX}:{self.name}"),))
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._conn is not None

    def __enter__(self) -> CrawlLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _describe(holder: dict[str, str]) -> str:
    parts = [f"{k} {holder[k]}" for k in ("pid", "host", "started", "backend", "client") if holder.get(k)]
    text = ", ".join(parts)
    return f"a shared crawl: {text}" if text and holder.get("mode") == "shared" else text


@contextlib.contextmanager
def crawl_lock(url: str, name: str = "crawl", *, shared: bool = False) -> Iterator[CrawlLock]:
    """Hold the crawl lock of *url* for the ``with`` block (raises :class:`LockHeld`)."""
    lock = CrawlLock(url, name, shared=shared).acquire()
    try:
        yield lock
    finally:
        lock.release()


class LockExtension:
    """Takes the overlap lock for ``scrapy crawl news``, as ``python -m crawler crawl`` does.

    The CLI takes the lock itself before anything is opened and sets
    ``LOCK_HELD``; this extension covers the plain Scrapy command. It is
    built before the engine, the pipelines and the run record: when the lock
    is taken it logs one line and ends the process with code 75, so nothing
    is touched.

    Settings:
        LOCK_ENABLED: take the lock (default True).
        LOCK_HELD: set by the CLI, which already holds it.
    """

    def __init__(self, lock: CrawlLock) -> None:
        self.lock = lock

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LockExtension:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        settings = crawler.settings
        if not settings.getbool("LOCK_ENABLED") or settings.getbool("LOCK_HELD") or settings.get("REDIS_URL"):
            raise NotConfigured("the overlap lock is taken by the command line or disabled")
        url = settings.get("DATABASE_URL") or settings.get("STORAGE_URL")
        lock = CrawlLock(url)
        try:
            lock.acquire()
        except LockHeld as exc:
            logger.error("%s", exc)
            logging.shutdown()
            os._exit(EXIT_LOCKED)  # nothing has been opened yet: leave at once
        ext = cls(lock)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self) -> None:
        self.lock.release()
