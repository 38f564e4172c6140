"""Database fixtures for the dedup/export/import tests: opened ``crawler.storage.Database`` objects.

``sqlite_db`` (a file in a temp folder), ``postgres_db`` (a fresh database
created through an AUTOCOMMIT connection to ``postgres`` and dropped after;
skipped without a server unless REQUIRE_SERVICES=1, then it fails) and ``db``
parametrised over both. Use with ``from tests.support.db import *  # noqa``
or ``pytest_plugins``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.storage import Database

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

__all__ = ["db", "postgres_db", "sqlite_db"]


def _pg_database() -> Iterator[Database]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - no server or no driver
        message = f"PostgreSQL not available at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (REQUIRE_SERVICES=1)")
        pytest.skip(message)
    database = Database.open(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


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
