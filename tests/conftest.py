"""Fixtures shared by the tests; pytest provides them to every test module by name.

``settings``
    the project settings (``crawler/settings.py``, where every default lives), a
    fresh copy per test: components built outside a crawl (``X.build(settings, ...)``)
    read them as a crawl would.
``sqlite_db`` / ``postgres_db`` / ``db``
    an opened :class:`crawler.storage.database.Database`: SQLite in a temp folder,
    a fresh PostgreSQL database (dropped after), and ``db`` parametrised over both.
``db_url``
    a fresh, empty database URL: SQLite file, then PostgreSQL (marked ``postgres``).

PostgreSQL fixtures skip without a server unless REQUIRE_SERVICES=1 (then they
fail); see :mod:`tests.support.pg`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.storage.database import Database
from tests.support.db import open_pg_database
from tests.support.pg import pg_database
from tests.support.settings import project_settings


@pytest.fixture
def settings() -> Settings:
    return project_settings()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'test.db'}")
    yield database
    database.close()


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    with open_pg_database() as database:
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database.open(f"sqlite:///{tmp_path / 'test.db'}")
        yield database
        database.close()
    else:
        with open_pg_database() as database:
            yield database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'news.db'}"
        return
    with pg_database() as url:
        yield url
