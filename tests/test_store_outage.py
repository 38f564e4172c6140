"""The database goes away mid-run: batches are retried, and kept pending if it stays away (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from crawler.stats import CounterStats
from crawler.items import ArticleItem
from crawler.storage.database import Database, StorageError
from crawler.storage.models import Article
from pipelines.store import StorePipeline
from tests.support.pg import PG_ADMIN_URL, drop_pg_database, fresh_pg_database

pytestmark = pytest.mark.postgres


def _admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def take_away(name: str) -> None:
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")


def bring_back(name: str) -> None:
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def item(n: int) -> ArticleItem:
    return ArticleItem(url=f"https://a.example/n/{n}", site="a", fetched_at=datetime.now(UTC),
                       title=f"خبر {n}", text="نص الخبر " * 40)


@pytest.fixture
def pg() -> tuple[Database, str]:
    url, name = fresh_pg_database()
    db = Database.open(url)
    try:
        yield db, name
    finally:
        db.close()
        bring_back(name)
        drop_pg_database(name)


def count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Article.id)))


def test_batch_waits_for_the_database_to_come_back(pg: tuple[Database, str]) -> None:
    db, name = pg
    stats = CounterStats()
    store = StorePipeline(db, stats, batch_size=1, retry_times=5, retry_wait=0.3)
    store.process_item(item(1))
    take_away(name)
    threading.Timer(1.0, bring_back, args=(name,)).start()
    started = time.monotonic()
    store.process_item(item(2))  # retried until the database is back
    assert time.monotonic() - started >= 0.5
    assert count(db) == 2
    assert stats.get_value("store/retries") >= 1


def test_items_stay_pending_and_the_crawl_closes_if_it_stays_away(pg: tuple[Database, str]) -> None:
    db, name = pg
    closed: list[str] = []
    store = StorePipeline(db, CounterStats(), batch_size=1, retry_times=1, retry_wait=0.05,
                          on_unavailable=closed.append)
    take_away(name)
    with pytest.raises(StorageError, match="unavailable"):
        store.process_item(item(1))
    with pytest.raises(StorageError):
        store.process_item(item(2))  # no second wait: the crawl is closing
    assert closed == ["database_unavailable"]
    bring_back(name)
    store.unavailable = False
    store.flush()  # nothing was lost in this process
    assert count(db) == 2
