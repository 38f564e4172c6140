"""A fresh PostgreSQL database for the tests (the ``db_url`` and ``db`` fixtures of ``tests/conftest.py``).

PostgreSQL tests create a database
``crawl_test_<random>`` through an AUTOCOMMIT connection to ``postgres`` and drop it
after; without a server they are skipped with the reason, unless REQUIRE_SERVICES=1,
in which case they fail.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _require() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def _admin_engine():  # noqa: ANN202
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def fresh_pg_database() -> tuple[str, str]:
    """Create an empty database; returns (url, name). Skips (or fails) without a server."""
    from sqlalchemy.engine import make_url

    name = f"crawl_test_{uuid.uuid4().hex[:10]}"
    try:
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - no server, no driver
        message = f"PostgreSQL not available at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
        if _require():
            pytest.fail(message + " (REQUIRE_SERVICES=1)")
        pytest.skip(message)
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return url, name


def drop_pg_database(name: str) -> None:
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,))
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    engine.dispose()


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped on exit (skips or fails without a server)."""
    url, name = fresh_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)
