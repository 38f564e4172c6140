"""Database helpers for the tests: a fresh PostgreSQL ``Database`` and one-off queries.

The fixtures built on them (``sqlite_db``, ``postgres_db``, ``db``) are in
``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from crawler.storage.database import Database
from tests.support.pg import pg_database

__all__ = ["open_pg_database", "query"]


@contextlib.contextmanager
def open_pg_database() -> Iterator[Database]:
    """A :class:`Database` on a fresh PostgreSQL database, closed and dropped on exit
    (skips, or fails under REQUIRE_SERVICES=1, without a server)."""
    with pg_database() as url:
        database = Database.open(url)
        try:
            yield database
        finally:
            database.close()


def query(url: str, statement: Any) -> list[tuple[Any, ...]]:
    """The rows of *statement* on the database at *url*, opened and closed for this call."""
    database = Database.open(url)
    try:
        with database.session() as s:
            return [tuple(row) for row in s.execute(statement).all()]
    finally:
        database.close()
