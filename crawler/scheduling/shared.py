"""Shared crawl through Redis (``crawl --redis URL``): many workers, one frontier, one seen-set.

Any number of ``crawl --redis URL`` processes, on one machine or many, pointed
at the same Redis and the same PostgreSQL database, crawl together; each page
is fetched by one of them. The design is rmax/scrapy-redis's, written small
for this project (scrapy-redis 0.9.1 is MIT but has no rule for ending a crawl
shared by workers that are not Redis-fed spiders):

:class:`RedisScheduler` (``SCHEDULER``)
    Every request of every worker goes to one Redis sorted set (score:
    ``-priority``) as a pickled :meth:`scrapy.Request.to_dict`, and any worker
    takes the next one. Requests that cannot be serialized (a callback that is
    not a spider method) stay in a small local queue.
:class:`RedisDupeFilter` (``DUPEFILTER_CLASS``)
    A Redis set of request fingerprints (SADD): a URL is scheduled once per
    shared crawl, whichever worker finds it.
The end of a shared crawl
    Each worker has an entry in a Redis hash: ``busy`` or ``idle`` plus a
    heartbeat time (Redis server time, so clocks of different hosts do not
    matter). Taking a request marks the worker busy in the same Lua script; a
    worker whose engine has nothing left marks itself idle and stops only when
    the frontier is empty *and* every live worker is idle; until then it keeps
    polling the frontier (``REDIS_IDLE_POLL_SECONDS``). A worker silent for
    ``REDIS_WORKER_TIMEOUT`` is taken for dead.
Memory in Redis
    The seen-set and the frontier are deleted when the last worker leaves; a
    worker that joins when no live worker is left starts a fresh crawl (the
    leftovers of killed workers are dropped: the database's incremental state
    finds those pages again). Every key also expires ``REDIS_KEY_TTL_SECONDS``
    after the last heartbeat.

Keys: ``<prefix>:queue``, ``<prefix>:seen``, ``<prefix>:workers``; the prefix
(``REDIS_KEY_PREFIX``) is derived by :func:`key_prefix` from the database and
the sources, so two different shared crawls never mix.

Redis must be trusted: the frontier holds pickled requests, which every worker
unpickles. A shared crawl needs PostgreSQL (SQLite is one machine's file, so
it is refused); the database's overlap lock is taken in shared mode
(:class:`crawler.scheduling.lock.CrawlLock`), so a normal crawl still exits 75 while any
worker runs. Known limits: a request a worker has taken is lost if that worker
is killed; the per-source request budget is counted per worker.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import socket
import uuid
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.request import request_from_dict

from crawler import stats as st
from crawler.scheduling.services import CrawlServices

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["RedisDupeFilter", "RedisScheduler", "SharedCrawlError", "initialise_database", "key_prefix",
           "prepare_shared", "redis_client"]

APP_PREFIX = "arabic-news-crawler"

# A worker joins: forget dead workers; with no live one left, start afresh.
_JOIN = """
local now = tonumber(redis.call('TIME')[1])
local live = 0
local w = redis.call('HGETALL', KEYS[3])
for i = 1, #w, 2 do
  local ts = tonumber(string.match(w[i + 1], '|(%d+)$'))
  if ts == nil or now - ts > tonumber(ARGV[2]) then redis.call('HDEL', KEYS[3], w[i]) else live = live + 1 end
end
if live == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
redis.call('HSET', KEYS[3], ARGV[1], 'busy|' .. now)
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return live
"""
# Take the next request and mark the worker busy, atomically.
_POP = """
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], 'busy|' .. redis.call('TIME')[1])
return r[1]
"""
# The worker is idle: 1 when the frontier is empty and every live worker is idle.
_IDLE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[2], ARGV[1], 'idle|' .. now)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local w = redis.call('HGETALL', KEYS[2])
for i = 1, #w, 2 do
  local state, ts = string.match(w[i + 1], '^(%a+)|(%d+)$')
  if ts == nil or now - tonumber(ts) > tonumber(ARGV[2]) then redis.call('HDEL', KEYS[2], w[i])
  elseif state ~= 'idle' then return 0 end
end
return 1
"""
# Refresh the worker's heartbeat (keeping its state) and every key's TTL.
_HEARTBEAT = """
local cur = redis.call('HGET', KEYS[3], ARGV[1])
local state = 'busy'
if cur then state = string.match(cur, '^(%a+)') or 'busy' end
redis.call('HSET', KEYS[3], ARGV[1], state .. '|' .. redis.call('TIME')[1])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return 1
"""
# The worker leaves; the last one out deletes the shared crawl's keys.
_LEAVE = """
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HLEN', KEYS[3]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) return 1 end
return 0
"""


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
    for name, value in (("REDIS_URL", redis_url), ("REDIS_KEY_PREFIX", prefix),
                        ("SCHEDULER", "crawler.scheduling.shared.RedisScheduler"),
                        ("DUPEFILTER_CLASS", "crawler.scheduling.shared.RedisDupeFilter")):
        settings.set(name, value, priority="cmdline")
    return prefix


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


class RedisDupeFilter(BaseDupeFilter):
    """Request fingerprints in one Redis set, shared by every worker (``<prefix>:seen``).

    Args:
        server: the Redis client.
        key: the set's key.
        fingerprinter: the crawler's request fingerprinter.
        stats: the stats collector (``dupefilter/filtered``).
        debug: log every filtered request (``DUPEFILTER_DEBUG``).
    """

    def __init__(self, server: Redis, key: str, fingerprinter: Any = None, stats: Any = None,
                 debug: bool = False) -> None:
        from scrapy.utils.request import RequestFingerprinter

        self.server = server
        self.key = key
        self.fingerprinter = fingerprinter or RequestFingerprinter()
        self.stats = stats
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisDupeFilter:
        return cls(CrawlServices.of(crawler).redis, f"{crawler_prefix(crawler)}:seen", crawler.request_fingerprinter,
                   crawler.stats, crawler.settings.getbool("DUPEFILTER_DEBUG"))

    def request_seen(self, request: Request) -> bool:
        return self.server.sadd(self.key, self.fingerprinter.fingerprint(request).hex()) == 0

    def log(self, request: Request, spider: Any) -> None:
        if self.debug:
            logger.debug("Filtered duplicate request: %s", request)
        if self.stats is not None:
            self.stats.inc_value(st.DUPEFILTER_FILTERED)


class RedisScheduler(BaseScheduler):
    """The shared frontier: a Redis sorted set of serialized requests (``<prefix>:queue``).

    Settings:
        REDIS_URL, REDIS_KEY_PREFIX: where the shared crawl lives.
        DUPEFILTER_CLASS: the duplicate filter (:class:`RedisDupeFilter` in a shared crawl).
        REDIS_HEARTBEAT_SECONDS: liveness refresh (default 5).
        REDIS_WORKER_TIMEOUT: a worker silent this long is dead (default 60).
        REDIS_IDLE_POLL_SECONDS: an idle worker polls the frontier this often (default 0.5).
        REDIS_KEY_TTL_SECONDS: keys expire this long after the last heartbeat (default 1 day).
    """

    def __init__(self, crawler: Crawler, server: Redis, prefix: str, dupefilter: BaseDupeFilter, *,
                 heartbeat: float = 5.0, worker_timeout: float = 60.0, idle_poll: float = 0.5,
                 key_ttl: int = 86_400) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.server = server
        self.prefix = prefix
        self.df = dupefilter
        self.heartbeat = heartbeat
        self.worker_timeout = worker_timeout
        self.idle_poll = idle_poll
        self.key_ttl = key_ttl
        self.queue_key, self.seen_key, self.workers_key = (f"{prefix}:{k}" for k in ("queue", "seen", "workers"))
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._scripts = {name: server.register_script(text) for name, text in
                         (("join", _JOIN), ("pop", _POP), ("idle", _IDLE), ("heartbeat", _HEARTBEAT),
                          ("leave", _LEAVE))}
        self._local: deque[Request] = deque()  # unserializable requests
        self._beat: Any = None
        self._poke_call: Any = None
        self._closing = False
        self.spider: Spider | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        settings = crawler.settings
        dupefilter = build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler)
        scheduler = cls(crawler, CrawlServices.of(crawler).redis, crawler_prefix(crawler), dupefilter,
                        heartbeat=settings.getfloat("REDIS_HEARTBEAT_SECONDS"),
                        worker_timeout=settings.getfloat("REDIS_WORKER_TIMEOUT"),
                        idle_poll=settings.getfloat("REDIS_IDLE_POLL_SECONDS"),
                        key_ttl=settings.getint("REDIS_KEY_TTL_SECONDS"))
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    @property
    def _keys(self) -> list[str]:
        return [self.queue_key, self.seen_key, self.workers_key]

    # -- BaseScheduler ------------------------------------------------------------------
    def open(self, spider: Spider) -> Any:
        from twisted.internet import task

        self.spider = spider
        live = self._scripts["join"](keys=self._keys, args=[self.worker_id, int(self.worker_timeout), self.key_ttl])
        logger.info("shared crawl %s: joined as %s (%s)", self.prefix, self.worker_id,
                    f"{live} other worker(s) running" if live else "first worker: a fresh frontier")
        self.stats.set_value(st.SHARED_WORKER_ID, self.worker_id)
        self.stats.set_value(st.SHARED_JOINED_RUNNING, int(live))
        if self.heartbeat > 0:
            self._beat = task.LoopingCall(self._heartbeat)
            self._beat.start(self.heartbeat, now=False)
        return self.df.open()

    def close(self, reason: str) -> Any:
        self._closing = True
        if self._poke_call is not None and self._poke_call.active():
            self._poke_call.cancel()
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        if self._local:
            logger.warning("shared crawl: %d unserializable request(s) were not crawled", len(self._local))
        try:
            if self._scripts["leave"](keys=self._keys, args=[self.worker_id]):
                logger.info("shared crawl %s: last worker out, frontier and seen-set deleted", self.prefix)
        except Exception as exc:  # noqa: BLE001 - Redis gone: the keys expire by themselves
            logger.error("shared crawl: cannot leave cleanly: %s", _first_line(exc))
        return self.df.close(reason)

    def has_pending_requests(self) -> bool:
        if self._local:
            return True
        try:
            return bool(self.server.zcard(self.queue_key))
        except Exception as exc:  # noqa: BLE001 - redis errors
            logger.error("shared crawl: Redis error: %s", _first_line(exc))
            return False

    def enqueue_request(self, request: Request) -> bool:
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            try:
                data = pickle.dumps(request.to_dict(spider=self.spider), protocol=pickle.HIGHEST_PROTOCOL)
            except (ValueError, TypeError, AttributeError, pickle.PicklingError) as exc:
                logger.debug("not shareable, kept local: %s (%s)", request, exc)
                self._local.append(request)
                self.stats.inc_value(st.SHARED_ENQUEUED_LOCAL)
                return True
            self.server.zadd(self.queue_key, {data: -request.priority})
        except Exception as exc:  # noqa: BLE001 - redis errors: the request is lost, counted
            logger.error("shared crawl: cannot schedule %s: %s", request.url, _first_line(exc))
            self.stats.inc_value(st.SHARED_REDIS_ERRORS)
            return False
        self.stats.inc_value(st.SCHEDULER_ENQUEUED)
        self.stats.inc_value(f"{st.SCHEDULER_ENQUEUED}/redis")
        return True

    def next_request(self) -> Request | None:
        if self._local:
            return self._local.popleft()
        try:
            data = self._scripts["pop"](keys=[self.queue_key, self.workers_key], args=[self.worker_id])
        except Exception as exc:  # noqa: BLE001 - redis errors
            logger.error("shared crawl: cannot read the frontier: %s", _first_line(exc))
            self.stats.inc_value(st.SHARED_REDIS_ERRORS)
            return None
        if data is None:
            return None
        request = request_from_dict(pickle.loads(data), spider=self.spider)  # noqa: S301 - trusted Redis
        self.stats.inc_value(st.SCHEDULER_DEQUEUED)
        self.stats.inc_value(f"{st.SCHEDULER_DEQUEUED}/redis")
        self.stats.inc_value(st.SHARED_DEQUEUED)
        return request

    # -- the end of a shared crawl -------------------------------------------------------
    def spider_idle(self, **_: Any) -> None:
        """This worker has nothing left: stop only when the whole shared crawl has nothing left."""
        if self._closing:
            return
        try:
            done = self._scripts["idle"](keys=[self.queue_key, self.workers_key],
                                         args=[self.worker_id, int(self.worker_timeout)])
        except Exception as exc:  # noqa: BLE001 - redis errors
            logger.error("shared crawl: Redis error while idle: %s", _first_line(exc))
            raise CloseSpider("shared_redis_error") from None
        if done:
            logger.info("shared crawl %s: frontier empty and every worker idle", self.prefix)
            return
        self.stats.inc_value(st.SHARED_IDLE_POLLS)
        if self._poke_call is None or not self._poke_call.active():
            from twisted.internet import reactor

            self._poke_call = reactor.callLater(self.idle_poll, self._poke)
        raise DontCloseSpider

    def _poke(self) -> None:
        """Make the engine look at the frontier again (it otherwise waits for its 5 s heartbeat)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None and not self._closing:
            slot.nextcall.schedule()

    def _heartbeat(self) -> None:
        try:
            self._scripts["heartbeat"](keys=self._keys, args=[self.worker_id, self.key_ttl])
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat is not fatal
            logger.warning("shared crawl: heartbeat failed: %s", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
