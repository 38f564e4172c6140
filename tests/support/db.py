"""Database fixtures for the dedup/export/import tests: opened ``crawler.storage.database.Database`` objects.

``sqlite_db`` (a file in a temp folder), ``postgres_db`` (a fresh database
created through an AUTOCOMMIT connection to ``postgres`` and dropped after;
skipped without a server unless REQUIRE_SERVICES=1, then it fails) and ``db``
parametrised over both. Use with ``from tests.support.db import *  # noqa``
or ``pytest_plugins``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.storage.database import Database
from tests.support.pg import pg_database

__all__ = ["db", "postgres_db", "query", "sqlite_db"]


def _pg_database() -> Iterator[Database]:
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


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'test.db'}")
    yield database
    database.close()


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    yield from _pg_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database.open(f"sqlite:///{tmp_path / 'test.db'}")
        yield database
        database.close()
    else:
        yield from _pg_database()
