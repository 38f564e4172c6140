"""De-duplication that is right under concurrency (PostgreSQL band locks, crawler/dedup/locks.py).

Two writers (threads, each with its own ``Database``: its own connections, as two
worker processes) cluster near-duplicates at the same instant: a barrier right
before the candidate query makes them both reach it together unless the band
locks hold one back until the other's article is stored. Without locks the same
test ends in two clusters (checked too: the barrier really forces the race).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from crawler.dedup import index as store
from crawler.dedup.clusterer import Deduplicator
from crawler.dedup.locks import BandLocks
from crawler.stats import CounterStats
from crawler.storage.database import Database
from crawler.storage.export import headlines
from crawler.storage.models import Article
from crawler.storage.writer import ArticleWriter
from tests.support.settings import project_settings
from tests.test_dedup import OTHER, PARA

pytestmark = pytest.mark.postgres

H = "الرئيس السوري في موسكو.. محادثات مع «بوتين» لتعزيز التعاون السياسي والاقتصادي"
THIRD = [
    "افتتحت مكتبة عامة جديدة في وسط العاصمة تضم أكثر من مئة ألف كتاب ومخطوطة نادرة للباحثين والطلاب",
    "وقالت إدارة المكتبة إن القاعات ستفتح أبوابها يوميا من الصباح حتى المساء طوال أيام الأسبوع",
    "وتضم المكتبة قسما للأطفال وقاعة للمحاضرات ومعملا لترميم الكتب القديمة والوثائق التاريخية",
]


def page(url: str, paras: list[str], title: str = "افتتاح مستشفى جديد في جدة", **kw: Any) -> dict[str, Any]:
    return {"url": url, "site": url.split("/")[2], "title": title, "text": "\n".join(paras),
            "fetched_at": datetime(2025, 1, 1, tzinfo=UTC), **kw}


def race(url: str, pages: list[dict[str, Any]], query: str, monkeypatch: pytest.MonkeyPatch, *,
         locks: bool = True, wait: float = 1.5) -> None:
    """Each page by its own writer, all at once: a barrier stops each before *query* (an index function).

    Without locks a second barrier holds each writer after its query until every writer has
    queried, so that none commits before another looks (the threads share one GIL: a writer
    woken late could otherwise look after the first one's commit, and the race would not happen).
    """
    barrier, looked = threading.Barrier(len(pages)), threading.Barrier(len(pages))
    real: Callable[..., Any] = getattr(store, query)

    def held_back(*args: Any, **kwargs: Any) -> Any:
        try:
            barrier.wait(wait)  # a writer held back by the locks never comes: go on alone
        except threading.BrokenBarrierError:
            pass
        try:
            return real(*args, **kwargs)
        finally:
            if not locks:
                try:
                    looked.wait(wait)
                except threading.BrokenBarrierError:
                    pass

    monkeypatch.setattr(store, query, held_back)
    settings = project_settings({"DEDUP_LOCKS": locks})
    errors: list[BaseException] = []

    def writer(p: dict[str, Any]) -> None:
        db = Database.open(url, migrate=False)
        try:
            dedup = Deduplicator.build(settings, CounterStats(), db)
            dedup.enable_locks(settings)
            assert (dedup.locks is not None) is locks
            items, held = dedup.process_batch_held([dict(p)])
            try:
                ArticleWriter.build(settings, CounterStats(), db).write_now(items)
            finally:
                held.release()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(p,)) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


@pytest.fixture
def pg_url(postgres_db: Database) -> str:
    Deduplicator.build(project_settings(), CounterStats(), postgres_db).open()  # the config row, once
    return postgres_db.url


def clusters(url: str) -> dict[str, str]:
    db = Database.open(url, migrate=False)
    try:
        with db.session() as s:
            return dict(s.execute(select(Article.url, Article.cluster_id)).all())
    finally:
        db.close()


NEAR = ["جدة (واس) - " + PARA[0]] + PARA[1:4] + ["تابعونا على تويتر"]


def test_two_writers_of_near_duplicates_at_the_same_instant_end_in_one_cluster(pg_url, monkeypatch) -> None:
    race(pg_url, [page("https://a.example/1", PARA), page("https://b.example/1", NEAR)], "band_candidates",
         monkeypatch)
    got = clusters(pg_url)
    assert len(got) == 2 and len(set(got.values())) == 1, got


def test_without_locks_the_barrier_forces_two_clusters(pg_url, monkeypatch) -> None:
    race(pg_url, [page("https://a.example/1", PARA), page("https://b.example/1", NEAR)], "band_candidates",
         monkeypatch, locks=False, wait=10)
    assert len(set(clusters(pg_url).values())) == 2


def test_exact_copies_at_the_same_instant_end_in_one_cluster(pg_url, monkeypatch) -> None:
    race(pg_url, [page(f"https://{h}.example/1", PARA) for h in "abc"], "docs_by_hash", monkeypatch)
    assert len(set(clusters(pg_url).values())) == 1


def test_headline_counts_add_up_under_concurrent_inserts(pg_url, monkeypatch) -> None:
    # Three different stories whose titles are spellings of one headline, and one related
    # headline each: one headline cluster seen three times, whoever clusters first.
    related = [{"headline": "افتتاح مكتبة عامة جديدة في وسط العاصمة", "url": "https://x.example/lib"}]
    pages = [
        page("https://a.example/1", PARA, title=H, related_headlines=related),
        page("https://b.example/1", OTHER, title=H + " اليوم", related_headlines=related),
        page("https://c.example/1", THIRD, title="عاجل | " + H + " اليوم", related_headlines=related),
    ]
    race(pg_url, pages, "headline_band_candidates", monkeypatch)
    db = Database.open(pg_url, migrate=False)
    try:
        recs = {r["headline"]: r for r in headlines(db)}
    finally:
        db.close()
    assert len(set(clusters(pg_url).values())) == 3  # three stories
    counts = sorted(r["count"] for r in recs.values())
    assert counts == [3, 3], recs  # the title cluster and the related headline, each seen 3 times


def test_without_locks_headlines_split(pg_url, monkeypatch) -> None:
    pages = [page("https://a.example/1", PARA, title=H), page("https://b.example/1", OTHER, title=H + " اليوم")]
    race(pg_url, pages, "headline_band_candidates", monkeypatch, locks=False, wait=10)
    db = Database.open(pg_url, migrate=False)
    try:
        assert sorted(r["count"] for r in headlines(db)) == [1, 1]
    finally:
        db.close()


#: advisory locks in this test's database (pg_locks covers the whole server)
MINE = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def test_a_big_batch_locks_the_whole_index_and_release_frees_every_key(postgres_db: Database) -> None:
    locks = BandLocks(postgres_db.engine, max_keys=4)
    small = locks.acquire([5, 3, 3, 9])
    with postgres_db.engine.connect() as conn:
        held = conn.execute(text(MINE + " AND granted")).scalar()
        assert held == 1 + 3  # the index (shared) and three distinct keys
        big = BandLocks(postgres_db.engine, max_keys=4)
        other = conn.execute(text("SELECT pg_try_advisory_lock(1684366448, 1819239275)")).scalar()
        assert other is False  # the whole index is not free while a batch holds keys
        small.release()
        small.release()  # idempotent
        everything = big.acquire(range(10))
        assert conn.execute(text("SELECT pg_try_advisory_lock_shared(1684366448, 1819239275)")).scalar() is False
        everything.release()
        assert conn.execute(text(MINE)).scalar() == 0


def test_sqlite_takes_no_locks(sqlite_db: Database) -> None:
    dedup = Deduplicator.build(project_settings(), CounterStats(), sqlite_db)
    dedup.enable_locks(project_settings())
    assert dedup.locks is None
    dedup.open()
    items, held = dedup.process_batch_held([page("https://a.example/1", PARA)])
    held.release()
    assert items[0]["cluster_id"]


def in_flight_member(url: str, locks: bool) -> dict[str, str]:
    """D (two stories) stored; writer A joins M (the first story) to D's cluster and is still writing it
    when writer B clusters X (the second story): X is close to D, shares no band with M, and is
    nothing like M. One process (D, M, X) keeps X apart: complete link."""
    settings = project_settings({"DEDUP_LOCKS": locks})
    setup = Database.open(url, migrate=False)
    dedup = Deduplicator.build(settings, CounterStats(), setup)
    ArticleWriter.build(settings, CounterStats(), setup).write_now(dedup.process_batch([page("https://d.example/1", PARA + OTHER)]))
    setup.close()
    a_db, b_db = Database.open(url, migrate=False), Database.open(url, migrate=False)
    a, b = Deduplicator.build(settings, CounterStats(), a_db), Deduplicator.build(settings, CounterStats(), b_db)
    a.enable_locks(settings)
    b.enable_locks(settings)
    b_started = threading.Event()
    errors: list[BaseException] = []

    def writer_b() -> None:
        try:
            b_started.set()
            items, held = b.process_batch_held([page("https://x.example/1", OTHER)])
            ArticleWriter.build(settings, CounterStats(), b_db).write_now(items)
            held.release()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    try:
        items, held = a.process_batch_held([page("https://m.example/1", PARA)])
        thread = threading.Thread(target=writer_b)
        thread.start()
        b_started.wait(10)
        time.sleep(1.0)  # B clusters X now, while M is in flight (or waits for it, with locks)
        ArticleWriter.build(settings, CounterStats(), a_db).write_now(items)
        held.release()
        thread.join(60)
        assert not errors, errors
    finally:
        a_db.close()
        b_db.close()
    return clusters(url)


def test_a_member_still_being_written_is_checked_before_joining(pg_url) -> None:
    got = in_flight_member(pg_url, locks=True)
    assert got["https://m.example/1"] == got["https://d.example/1"]
    assert got["https://x.example/1"] != got["https://d.example/1"]  # as one process decides


def test_without_locks_a_member_still_being_written_is_missed(pg_url) -> None:
    got = in_flight_member(pg_url, locks=False)
    assert got["https://x.example/1"] == got["https://m.example/1"] == got["https://d.example/1"]
