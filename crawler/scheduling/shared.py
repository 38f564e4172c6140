"""Shared crawl through Redis (``crawl --redis URL``) on scrapy-redis: many workers, one frontier.

Any number of ``crawl --redis URL`` processes, on one machine or many, pointed
at the same Redis and the same PostgreSQL database, crawl together; each page
is fetched by one of them. The frontier and the seen-set are rmax/scrapy-redis's
(MIT, pinned in requirements.txt), configured by its own settings, which
:func:`prepare_shared` sets:

``SCHEDULER`` = :class:`SharedScheduler`
    scrapy-redis's ``Scheduler``, with ``SCHEDULER_PERSIST`` on (a worker that
    leaves must not delete the frontier of the others) and two small changes:
    a request that cannot be serialized (a callback that is not a spider
    method) stays in a local queue instead of failing, and a redirect or retry
    of a request this worker had taken hands that request's lease back.
``SCHEDULER_QUEUE_CLASS`` = :class:`LeasedPriorityQueue`
    scrapy-redis's ``PriorityQueue`` (a sorted set, ``SCHEDULER_QUEUE_KEY`` =
    ``<prefix>:queue``) whose pop also writes the request into this worker's
    in-flight hash, atomically (a Lua script): what a killed worker had taken
    is not lost (:mod:`crawler.scheduling.workers`).
``DUPEFILTER_CLASS`` = ``scrapy_redis.dupefilter.RFPDupeFilter``
    unchanged: a Redis set of request fingerprints (``SCHEDULER_DUPEFILTER_KEY``
    = ``<prefix>:seen``).

What scrapy-redis does not do is in two modules of our own, each plugged in by
:func:`plug_in`: :mod:`crawler.scheduling.workers` (the end of a crawl that is
not fed from a Redis list, and in-flight recovery) and
:mod:`crawler.scheduling.politeness` (per-domain delay and concurrency across
workers). Keys live under one prefix (``REDIS_KEY_PREFIX``), derived by
:func:`key_prefix` from the database and the sources, so two different shared
crawls never mix.

Redis must be trusted: the frontier holds pickled requests (scrapy-redis's
``picklecompat``), which every worker unpickles. A shared crawl needs
PostgreSQL (SQLite is one machine's file, so it is refused); the database's
overlap lock is taken in shared mode (:class:`crawler.scheduling.lock.CrawlLock`),
so a normal crawl still exits 75 while any worker runs. The per-source request
budget is counted per worker.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler import meta as m
from crawler import stats as st

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["LeasedPriorityQueue", "SharedCrawlError", "SharedScheduler", "domain_slot", "initialise_database",
           "key_prefix", "plug_in", "prepare_shared", "redis_client", "split_member"]

APP_PREFIX = "arabic-news-crawler"


class SharedCrawlError(RuntimeError):
    """A shared crawl cannot start (bad configuration, Redis unreachable): one line."""


def describe_redis(url: str) -> str:
    """The Redis URL without its password, for messages."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        pass
    return url


def redis_client(url: str, connect_timeout: float = 5.0) -> Redis:
    """A Redis client for *url* (``redis://``, ``rediss://``, ``unix://``)."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=max(30.0, connect_timeout),
                                health_check_interval=30)


def crawler_prefix(crawler: Crawler) -> str:
    settings = crawler.settings
    return settings.get("REDIS_KEY_PREFIX") or key_prefix(
        settings.get("DATABASE_URL") or settings.get("STORAGE_URL"), settings.get("SOURCES_FILE"))


def key_prefix(db_url: str, sources_path: str | None, only: Iterable[str] = ()) -> str:
    """The Redis key prefix of the shared crawl of *db_url* and the sources file.

    Built from the database's backend, host, port and name (not the user or
    password), the sources file's *content* (paths may differ between
    machines) and the ``--only`` names: workers agree when they name the
    database the same way; else set ``REDIS_KEY_PREFIX`` on each.
    """
    from sqlalchemy.engine import make_url

    try:
        u = make_url(db_url)
        ident = f"{u.get_backend_name()}://{u.host or ''}:{u.port or ''}/{u.database or ''}"
    except Exception:  # noqa: BLE001 - an invalid URL fails later, with its own message
        ident = str(db_url)
    try:
        content = Path(sources_path).read_bytes() if sources_path else b""
    except OSError:
        content = str(sources_path).encode()
    digest = hashlib.sha1(b"\0".join([ident.encode(), content, ",".join(sorted(only)).encode()])).hexdigest()
    return f"{APP_PREFIX}:{digest[:16]}"


def prepare_shared(settings: Settings, redis_url: str, db_url: str | None = None, sources_path: str | None = None,
                   only: Iterable[str] = ()) -> str:
    """Check the shared crawl's set-up and plug the Redis components into *settings*.

    Returns the key prefix. Raises :class:`SharedCrawlError` (one line) for a
    database other than PostgreSQL or an unreachable Redis.
    """
    from sqlalchemy.engine import make_url

    db_url = db_url or settings.get("DATABASE_URL") or settings.get("STORAGE_URL")
    try:
        backend = make_url(db_url).get_backend_name()
    except Exception:  # noqa: BLE001 - sqlalchemy ArgumentError
        raise SharedCrawlError(f"database URL {db_url!r} is not a valid SQLAlchemy URL") from None
    if backend != "postgresql":
        raise SharedCrawlError(f"a shared crawl (--redis) needs a PostgreSQL database that every worker reaches,"
                               f" not {backend}")
    timeout = settings.getfloat("REDIS_CONNECT_TIMEOUT")
    try:
        redis_client(redis_url, timeout).ping()
    except ValueError as exc:
        raise SharedCrawlError(f"--redis {describe_redis(redis_url)!r} is not a valid Redis URL: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - redis ConnectionError, TimeoutError, AuthenticationError
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SharedCrawlError(f"Redis {describe_redis(redis_url)} is unreachable: {reason}") from None
    prefix = settings.get("REDIS_KEY_PREFIX") or key_prefix(db_url, sources_path or settings.get("SOURCES_FILE"),
                                                            only)
    if "%" in prefix:  # scrapy-redis formats its keys with `key % {"spider": name}`
        raise SharedCrawlError(f"REDIS_KEY_PREFIX {prefix!r}: '%' is not allowed in a key prefix")
    plug_in(settings, redis_url, prefix)
    return prefix


def plug_in(settings: Settings, redis_url: str, prefix: str) -> None:
    """Configure scrapy-redis and our three additions in *settings* (see the module docstring).

    scrapy-redis's settings are set at "cmdline" priority: the keys follow
    ``REDIS_KEY_PREFIX`` (which :class:`crawler.scheduling.workers.SharedWorkers`
    uses too) and ``SCHEDULER_PERSIST`` stays on (the last worker out deletes
    the keys, not each worker that leaves).
    """
    forced = {
        "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix,
        "SCHEDULER": "crawler.scheduling.shared.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "crawler.scheduling.shared.LeasedPriorityQueue",
        "SCHEDULER_PERSIST": True, "SCHEDULER_QUEUE_KEY": f"{prefix}:queue",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:seen",
    }
    logger.debug("shared crawl: the local DUPEFILTER_CLASS %s gives way to scrapy-redis's",
                 settings["DUPEFILTER_CLASS"])
    for name, value in forced.items():
        settings.set(name, value, priority="cmdline")
    settings["EXTENSIONS"] = {**settings.getdict("EXTENSIONS"), "crawler.scheduling.workers.SharedWorkers": 60}
    settings["SPIDER_MIDDLEWARES"] = {**settings.getdict("SPIDER_MIDDLEWARES"),
                                      "crawler.scheduling.workers.InFlightSpiderMiddleware": 10}
    downloader = {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                  "crawler.scheduling.workers.InFlightDownloaderMiddleware": 1}
    if settings.getbool("REDIS_GLOBAL_POLITENESS"):
        from crawler.scheduling.politeness import global_politeness

        downloader.update(global_politeness(settings))
    settings["DOWNLOADER_MIDDLEWARES"] = downloader


def initialise_database(settings: Settings, url: str) -> None:
    """Migrate the database and record the dedup configuration, one worker at a time.

    Workers started together on a fresh database would otherwise race to
    create the schema. Raises :class:`crawler.storage.database.StorageError`.
    """
    from crawler.stats import CounterStats
    from crawler.scheduling.lock import lock_key
    from crawler.storage.database import Database

    db = Database.open(url, migrate=False)
    try:
        key = lock_key(f"{APP_PREFIX}:initialise")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
            try:
                db.migrate()
                if settings.getbool("DEDUP_ENABLED"):
                    from crawler.dedup.clusterer import Deduplicator

                    Deduplicator.build(settings, CounterStats(), db).open()
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
                conn.commit()
    finally:
        db.close()


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler, with a local queue for what cannot be shared and lease hand-back.

    Settings: scrapy-redis's (``SCHEDULER_PERSIST``, ``SCHEDULER_QUEUE_KEY``,
    ``SCHEDULER_QUEUE_CLASS``, ``SCHEDULER_DUPEFILTER_KEY``, ``DUPEFILTER_CLASS``,
    ``REDIS_URL``, ``REDIS_PARAMS``).
    """

    crawler: Crawler
    counts: Any  # the crawler's stats
    _local: deque[Request]
    _missed: bool  # the last pop found nothing to start
    _workers: Any = None  # the crawl's SharedWorkers, looked up once (see workers)

    @property
    def workers(self) -> Any:
        """The crawl's :class:`crawler.scheduling.workers.SharedWorkers` extension."""
        if self._workers is None:
            self._workers = self.crawler.get_extension(_workers_class())
        return self._workers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler._local = deque()
        scheduler._missed = False
        # scrapy-redis counts with the `spider` argument Scrapy deprecated: we count ourselves.
        scheduler.counts = scheduler.stats
        scheduler.stats = None
        return scheduler

    def close(self, reason: str) -> None:
        if self._local:
            logger.warning("shared crawl: %d request(s) kept on this worker were not crawled", len(self._local))
        super().close(reason)

    def has_pending_requests(self) -> bool:
        # After a pop that found nothing this worker could start now (every domain at the head of
        # the queue at its limit), the engine may go idle: the idle poll then takes what frees up.
        return bool(self._local) or (not self._missed and super().has_pending_requests())

    def enqueue_request(self, request: Request) -> bool:
        self._missed = False
        if request.meta.pop(m.SHARED_HANDOFF, False):  # taken from the queue by this worker's idle poll
            self._local.append(request)
            return True
        workers = self.workers
        workers.drop_reservation(request)  # a retry or redirect before the gate: its turn is free
        lease = request.meta.pop(m.SHARED_LEASE, None)  # a redirect or retry of a request this worker took
        try:
            try:
                added = super().enqueue_request(request)
            except (ValueError, TypeError, AttributeError, pickle.PicklingError) as exc:
                logger.debug("not shareable, kept on this worker: %s (%s)", request, exc)
                self._local.append(request)
                self.counts.inc_value(st.SHARED_ENQUEUED_LOCAL)
                return True
        finally:
            if lease is not None:  # its follow-up is in the queue (or filtered): the lease is done
                self.workers.release(lease)
        if added:
            self.counts.inc_value(st.SCHEDULER_ENQUEUED)
            self.counts.inc_value(f"{st.SCHEDULER_ENQUEUED}/redis")
        return added

    def next_request(self) -> Request | None:
        if self._local:
            return self._local.popleft()
        request = super().next_request()
        self._missed = request is None
        if request is not None:
            self.workers.end_idle()
            self.counts.inc_value(st.SCHEDULER_DEQUEUED)
            self.counts.inc_value(f"{st.SCHEDULER_DEQUEUED}/redis")
            self.counts.inc_value(st.SHARED_DEQUEUED)
        return request


def domain_key(prefix: str, slot: str, what: str) -> str:
    """The Redis key of a domain's politeness state: ``leases`` (with reservations) or ``next``."""
    return f"{prefix}:domain:{slot}:{what}"


def domain_slot(request: Request) -> str:
    """The politeness gate's name for the domain of *request* (Scrapy's download slot: its host)."""
    from scrapy.utils.httpobj import urlparse_cached

    slot = request.meta.get(m.DOWNLOAD_SLOT) or urlparse_cached(request).hostname or ""
    return str(slot).replace("\n", " ")


def queue_member(request: Request, data: bytes) -> bytes:
    """The queue member of *request* serialized as *data*: ``@<8 hex digits><domain>\\n<data>``.

    The hex digits (a hash of the URL) come first so that requests of one
    priority, which a Redis sorted set orders by member, are spread over the
    domains rather than grouped by domain: the pop's window of the next
    :data:`crawler.scheduling.workers.POP_SCAN` requests then holds many
    domains, not the next one or two.
    """
    spread = hashlib.blake2b(request.url.encode(), digest_size=4).hexdigest().encode()
    return b"@" + spread + domain_slot(request).encode() + b"\n" + data


def split_member(member: bytes) -> tuple[str | None, bytes]:
    """``(domain, serialized request)`` of a queue member (:func:`queue_member`; a plain one: no domain)."""
    if member[:1] == b"@":
        slot, _, data = member[9:].partition(b"\n")
        return slot.decode("utf-8", "replace"), data
    return None, member


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request to this worker, and only one it can start.

    A member is the serialized request behind its domain (:func:`queue_member`), so the pop can see what the politeness gate would
    do with it. The pop is one Lua script
    (:meth:`crawler.scheduling.workers.SharedWorkers.take`): in priority order,
    the first of the next requests whose domain has a free concurrency lease
    (its leases plus the turns reserved by every worker's pops whose requests
    have not reached the gate yet) is removed from the queue, a turn reserved
    for it, written into this worker's in-flight hash,
    and the worker marked busy; with every domain of those requests at its
    limit, nothing is taken (a worker does not hoard requests that would wait
    at the gate while other workers could send them). The lease id rides in
    ``request.meta`` (:data:`crawler.meta.SHARED_LEASE`) until the response or
    failure has been processed.
    """

    def __init__(self, server: Redis, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.workers = spider.crawler.get_extension(_workers_class())
        if self.workers is None:
            raise ValueError("crawler.scheduling.workers.SharedWorkers is not enabled in EXTENSIONS")
        self.workers.queue = self  # its idle poll turns what it takes into requests here too

    def _encode_request(self, request: Request) -> bytes:
        return queue_member(request, super()._encode_request(request))

    def _decode_request(self, encoded_request: bytes) -> Request:
        return super()._decode_request(split_member(encoded_request)[1])

    def pop(self, timeout: int = 0) -> Request | None:
        taken = self.workers.take()
        if taken is None:
            return None
        return self.leased_request(*taken)

    def leased_request(self, lease: str, member: bytes) -> Request:
        """The request of a queue *member* taken under *lease*, on its way to the politeness gate."""
        request = self._decode_request(member)
        request.meta[m.SHARED_LEASE] = lease
        self.workers.to_gate(request, split_member(member)[0], lease)
        return request


def _workers_class() -> type:
    from crawler.scheduling.workers import SharedWorkers

    return SharedWorkers
