"""What scrapy-redis does not do for a shared crawl: its end, and the requests a killed worker had taken.

scrapy-redis ends a worker when its queue stays empty (``SCHEDULER_IDLE_BEFORE_CLOSE``)
or, for Redis-fed spiders, never. A crawl that starts from a sources file is
finished only when the shared queue is empty *and* no worker is still
processing a page (whose links would refill it), so each worker needs to know
what the others do. And scrapy-redis pops a request and forgets it: a worker
killed with SIGKILL loses every request it had taken.

:class:`SharedWorkers` (``EXTENSIONS``)
    Each worker has an entry in the hash ``<prefix>:workers``: ``busy`` or
    ``idle`` plus a heartbeat time (Redis server time, so clocks of different
    hosts do not matter). Taking a request marks the worker busy in the same
    Lua script; a worker whose engine has nothing left marks itself idle and
    stops only when the queue is empty and every live worker is idle; until
    then it polls the queue (``REDIS_IDLE_POLL_SECONDS``) and hands what it
    finds to its engine (``engine.crawl``, which wakes it at once). A worker
    silent for ``REDIS_WORKER_TIMEOUT`` is dead.
In-flight leases
    The pop (:class:`crawler.scheduling.shared.LeasedPriorityQueue`) also writes
    the request, with its priority, into ``<prefix>:inflight:<worker>``; the
    lease is cleared when the request is done: its response went through the
    spider and every item it produced through the pipelines (so is stored),
    or its failure reached the errback, or its redirect or retry is in the
    queue. A live worker that finds a dead one (heartbeat, idle poll, join)
    puts the dead worker's in-flight requests back in the queue, atomically.
    A page done but not yet cleared is fetched again at worst; an article is
    never stored twice (the database's URL key, and the incremental
    middleware skips stored pages).
The last worker out
    A worker that leaves (end of the crawl, SIGTERM, Ctrl-C) puts its
    unfinished requests back; the last one out deletes the crawl's keys. A
    worker that joins when no live worker is left starts a fresh crawl (the
    leftovers of killed workers are dropped: the database's incremental state
    finds those pages again). Every key also expires ``REDIS_KEY_TTL_SECONDS``
    after the last heartbeat.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from crawler import meta as m
from crawler import stats as st
from crawler.scheduling.services import CrawlServices
from crawler.scheduling.shared import crawler_prefix, domain_key

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

__all__ = ["InFlightDownloaderMiddleware", "InFlightSpiderMiddleware", "SharedWorkers"]

# Shared by the scripts below: dead workers are forgotten and their in-flight
# requests go back to the queue. Returns {live workers, busy ones, requeued}.
_SWEEP = """
local function now_s() return tonumber(redis.call('TIME')[1]) end
local function requeue(queue, inflight)
  local e = redis.call('HGETALL', inflight)
  for i = 1, #e, 2 do
    local v = e[i + 1]
    local sep = string.find(v, '|', 1, true)
    redis.call('ZADD', queue, tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1))
  end
  redis.call('DEL', inflight)
  return #e / 2
end
local function sweep(queue, workers, prefix, now, timeout)
  local live, busy, back = 0, 0, 0
  local w = redis.call('HGETALL', workers)
  for i = 1, #w, 2 do
    local state, ts = string.match(w[i + 1], '^(%a+)|(%d+)$')
    if ts == nil or now - tonumber(ts) > timeout then
      redis.call('HDEL', workers, w[i])
      back = back + requeue(queue, prefix .. ':inflight:' .. w[i])
    else
      live = live + 1
      if state ~= 'idle' then busy = busy + 1 end
    end
  end
  return {live, busy, back}
end
"""
# KEYS: queue, seen, workers; ARGV: worker, timeout, ttl, prefix. A worker joins;
# with no live one left, the leftovers are dropped (a fresh crawl). Returns the live others.
_JOIN = _SWEEP + """
local s = sweep(KEYS[1], KEYS[3], ARGV[4], now_s(), tonumber(ARGV[2]))
if s[1] == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
redis.call('HSET', KEYS[3], ARGV[1], 'busy|' .. now_s())
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return s[1]
"""
# KEYS: queue, workers, inflight; ARGV: worker, lease[, concurrency, scan, prefix, reservation, ttl ms].
# Take the next request, lease it, mark the worker busy. With a per-domain concurrency, the next
# request among the first `scan` whose domain (a member `@<8 hex digits><domain>\\n...`) has fewer live entries in
# the gate's lease set than the concurrency, and reserve its turn there (the reservation counts for
# every worker until the request reaches the gate, which turns it into its lease); none: nothing taken.
_POP = """
local c = tonumber(ARGV[3] or '0')
local r = redis.call('ZRANGE', KEYS[1], 0, (c > 0 and tonumber(ARGV[4]) or 1) - 1, 'WITHSCORES')
local pick, score, lk
if c <= 0 then pick, score = r[1], r[2] else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local held = {}
  for i = 1, #r, 2 do
    local m, slot = r[i], nil
    if string.sub(m, 1, 1) == '@' then
      local sep = string.find(m, '\\n', 1, true)
      if sep then slot = string.sub(m, 10, sep - 1) end
    end
    if slot == nil then pick, score = m, r[i + 1] break end
    local key = ARGV[5] .. ':domain:' .. slot .. ':leases'
    if held[slot] == nil then held[slot] = redis.call('ZCOUNT', key, '(' .. now, '+inf') end
    if held[slot] < c then
      pick, score, lk = m, r[i + 1], key
      redis.call('ZADD', key, now + tonumber(ARGV[7]), ARGV[6])
      redis.call('PEXPIRE', key, tonumber(ARGV[7]))
      redis.call('SADD', ARGV[5] .. ':domains', key)
      break
    end
  end
end
if pick == nil then return false end
redis.call('ZREM', KEYS[1], pick)
redis.call('HSET', KEYS[3], ARGV[2], score .. '|' .. pick)
redis.call('HSET', KEYS[2], ARGV[1], 'busy|' .. redis.call('TIME')[1])
return pick
"""
#: how many requests at the head of the queue a pop looks at for one whose domain is free
POP_SCAN = 64
# KEYS: queue, workers; ARGV: worker, timeout, prefix. The worker is idle: 1 when the queue
# is empty and every live worker is idle (dead ones' requests are put back first).
_IDLE = _SWEEP + """
redis.call('HSET', KEYS[2], ARGV[1], 'idle|' .. now_s())
local s = sweep(KEYS[1], KEYS[2], ARGV[3], now_s(), tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) > 0 or s[2] > 0 then return {0, s[3]} end
return {1, s[3]}
"""
# KEYS: queue, seen, workers, inflight; ARGV: worker, ttl, timeout, prefix. Refresh the
# worker's heartbeat (keeping its state) and every key's TTL; recover dead workers.
_HEARTBEAT = _SWEEP + """
local cur = redis.call('HGET', KEYS[3], ARGV[1])
local state = 'busy'
if cur then state = string.match(cur, '^(%a+)') or 'busy' end
redis.call('HSET', KEYS[3], ARGV[1], state .. '|' .. now_s())
local s = sweep(KEYS[1], KEYS[3], ARGV[4], now_s(), tonumber(ARGV[3]))
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return s[3]
"""
# KEYS: queue, seen, workers, inflight, domains; ARGV: worker, timeout, prefix. The worker leaves:
# its unfinished requests go back; the last one out deletes the crawl's keys (and the politeness
# gate's per-domain keys, listed in the domains set). Returns {last, requeued}.
_LEAVE = _SWEEP + """
local back = requeue(KEYS[1], KEYS[4])
redis.call('HDEL', KEYS[3], ARGV[1])
local s = sweep(KEYS[1], KEYS[3], ARGV[3], now_s(), tonumber(ARGV[2]))
if s[1] == 0 then
  for _, k in ipairs(redis.call('SMEMBERS', KEYS[5])) do redis.call('DEL', k) end
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[5])
  return {1, back}
end
return {0, back}
"""


class SharedWorkers:
    """Scrapy extension: this worker's entry in the shared crawl, its leases, and the end rule.

    Settings:
        REDIS_URL, REDIS_KEY_PREFIX: where the shared crawl lives.
        REDIS_HEARTBEAT_SECONDS: liveness refresh, and the look for dead workers.
        REDIS_WORKER_TIMEOUT: a worker silent this long is dead.
        REDIS_IDLE_POLL_SECONDS: an idle worker looks at the queue this often.
        REDIS_KEY_TTL_SECONDS: keys expire this long after the last heartbeat.
    """

    def __init__(self, crawler: Crawler, prefix: str, *, heartbeat: float, worker_timeout: float,
                 idle_poll: float, key_ttl: int) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.prefix = prefix
        self.heartbeat = heartbeat
        self.worker_timeout = worker_timeout
        self.idle_poll = idle_poll
        self.key_ttl = key_ttl
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.queue_key, self.seen_key, self.workers_key = (f"{prefix}:{k}" for k in ("queue", "seen", "workers"))
        self.inflight_key = f"{prefix}:inflight:{self.worker_id}"
        self._scripts: dict[str, Any] = {}
        self._next_lease = 0
        self._items: Counter[str] = Counter()  # lease -> items of its response still in the pipelines
        self._output_done: set[str] = set()  # leases whose response's callback output is all out
        self._beat: Any = None
        self._poll: Any = None
        self._closing = False
        self._idle_since: float | None = None  # idle (DontCloseSpider) since then
        self._to_gate: dict[str, list[str]] = {}  # domain -> reservations of requests not yet at the gate
        settings = crawler.settings
        #: the politeness gate's per-domain concurrency (0: no gate, or no limit): the pop respects it
        self.gate_concurrency = (settings.getint("REDIS_DOMAIN_CONCURRENCY") if settings.getbool(
            "REDIS_GLOBAL_POLITENESS") and settings.get("REDIS_DOMAIN_CONCURRENCY") is not None else 0)
        self.gate_lease_ms = int(settings.getfloat("REDIS_DOMAIN_LEASE_SECONDS") * 1000)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedWorkers:
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured("REDIS_URL is not set (not a shared crawl)")
        ext = cls(crawler, crawler_prefix(crawler),
                  heartbeat=settings.getfloat("REDIS_HEARTBEAT_SECONDS"),
                  worker_timeout=settings.getfloat("REDIS_WORKER_TIMEOUT"),
                  idle_poll=settings.getfloat("REDIS_IDLE_POLL_SECONDS"),
                  key_ttl=settings.getint("REDIS_KEY_TTL_SECONDS"))
        for handler, signal in ((ext.spider_opened, signals.spider_opened), (ext.spider_idle, signals.spider_idle),
                                (ext.spider_closed, signals.spider_closed), (ext.item_done, signals.item_scraped),
                                (ext.item_done, signals.item_dropped), (ext.item_done, signals.item_error)):
            crawler.signals.connect(handler, signal=signal)
        return ext

    _server: Redis | None = None
    #: the shared queue (:class:`crawler.scheduling.shared.LeasedPriorityQueue`), set when it opens
    queue: Any = None

    @property
    def server(self) -> Redis:
        """The crawl's Redis client (:class:`CrawlServices`, reached once extensions exist; then kept)."""
        if self._server is None:
            self._server = CrawlServices.of(self.crawler).redis
        return self._server

    def _script(self, name: str) -> Any:
        if not self._scripts:
            self._scripts = {key: self.server.register_script(text) for key, text in
                             (("join", _JOIN), ("pop", _POP), ("idle", _IDLE), ("heartbeat", _HEARTBEAT),
                              ("leave", _LEAVE))}
        return self._scripts[name]

    @property
    def _keys(self) -> list[str]:
        return [self.queue_key, self.seen_key, self.workers_key, self.inflight_key]

    # -- life cycle -----------------------------------------------------------------------
    def spider_opened(self, **_: Any) -> None:
        """Join (before the spider's start requests are scheduled: a fresh crawl clears leftovers first)."""
        from twisted.internet import task

        live = self._script("join")(keys=self._keys[:3],
                                     args=[self.worker_id, int(self.worker_timeout), self.key_ttl, self.prefix])
        logger.info("shared crawl %s: joined as %s (%s)", self.prefix, self.worker_id,
                    f"{live} other worker(s) running" if live else "first worker: a fresh frontier")
        self.stats.set_value(st.SHARED_WORKER_ID, self.worker_id)
        self.stats.set_value(st.SHARED_JOINED_RUNNING, int(live))
        if self.heartbeat > 0:
            self._beat = task.LoopingCall(self._heartbeat)
            self._beat.start(self.heartbeat, now=False)

    def end_idle(self) -> None:
        """This worker has work again (or leaves): its idle time and its idle poll end."""
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        if self._idle_since is not None:
            self.stats.inc_value(st.SHARED_IDLE_SECONDS, time.monotonic() - self._idle_since)
            self._idle_since = None

    def spider_closed(self, **_: Any) -> None:
        """Leave: unfinished requests go back to the queue; the last worker out deletes the keys."""
        self._closing = True
        self.end_idle()
        for loop in (self._beat, self._poll):
            if loop is not None and loop.running:
                loop.stop()
        try:
            last, back = self._script("leave")(keys=[*self._keys, f"{self.prefix}:domains"], args=[self.worker_id, int(self.worker_timeout),
                                                                       self.prefix])
        except Exception as exc:  # noqa: BLE001 - Redis gone: the keys expire by themselves
            logger.error("shared crawl: cannot leave cleanly: %s", _first_line(exc))
            return
        if back:
            self.stats.inc_value(st.SHARED_LEFT_REQUEUED, int(back))
            logger.info("shared crawl: %d unfinished request(s) put back in the queue", back)
        if last:
            logger.info("shared crawl %s: last worker out, queue and seen-set deleted", self.prefix)

    def _heartbeat(self) -> None:
        try:
            back = self._script("heartbeat")(keys=self._keys, args=[self.worker_id, self.key_ttl,
                                                                     int(self.worker_timeout), self.prefix])
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat is not fatal
            logger.warning("shared crawl: heartbeat failed: %s", _first_line(exc))
            return
        self._recovered(back)

    def _recovered(self, back: int) -> None:
        if back:
            self.stats.inc_value(st.SHARED_REQUEUED, int(back))
            logger.warning("shared crawl: a dead worker's %d in-flight request(s) put back in the queue", back)

    # -- leases ---------------------------------------------------------------------------
    def take(self) -> tuple[str, bytes] | None:
        """Pop the next request of the shared queue this worker can send now, leased to it.

        ``(lease, member)`` (:func:`crawler.scheduling.shared.split_member`) or
        None: the queue is empty, or the domain of each of its first
        :data:`POP_SCAN` requests is at its concurrency (the gate's leases plus
        this worker's requests on their way to the gate).
        """
        self._next_lease += 1
        lease = str(self._next_lease)
        args: list[Any] = [self.worker_id, lease]
        if self.gate_concurrency > 0:
            args += [self.gate_concurrency, POP_SCAN, self.prefix, self.reservation(lease), self.gate_lease_ms]
        data = self._script("pop")(keys=[self.queue_key, self.workers_key, self.inflight_key], args=args)
        return None if data is None else (lease, data)

    def reservation(self, lease: str) -> str:
        """The member of the gate's lease set that reserves the domain's turn for the request of *lease*."""
        return f"{self.worker_id}|reserved|{lease}"

    def to_gate(self, request: Request, slot: str | None, lease: str) -> None:
        """*request* (of *lease*) was taken with a reservation for *slot*: remember it until the gate."""
        if self.gate_concurrency > 0 and slot is not None:
            member = self.reservation(lease)
            self._to_gate.setdefault(slot, []).append(member)
            request.meta[m.SHARED_GATE_PENDING] = (slot, member)

    def claim_reservation(self, request: Request, slot: str) -> str | None:
        """At the gate: the reservation *request* can turn into its lease, or None.

        Its own, if nobody used it; else (a request that did not come from the
        queue, e.g. robots.txt, which requests of this worker on their way to
        the gate wait for) one of this worker's reservations for the domain:
        the request it was made for then asks for a lease like any other.
        """
        own = request.meta.pop(m.SHARED_GATE_PENDING, None)
        waiting = self._to_gate.get(slot, [])
        if own is not None and own[1] in waiting:
            member = own[1]
        elif waiting:
            member = waiting[0]
        else:
            return None
        waiting.remove(member)
        if not waiting:
            self._to_gate.pop(slot, None)
        return member

    def drop_reservation(self, request: Request) -> None:
        """*request* will not reach the gate (skipped, failed, re-queued): its domain's turn is free again."""
        own = request.meta.pop(m.SHARED_GATE_PENDING, None)
        if own is None or own[1] not in self._to_gate.get(own[0], []):
            return
        slot, member = own
        self._to_gate[slot].remove(member)
        if not self._to_gate[slot]:
            del self._to_gate[slot]
        try:
            self.server.zrem(domain_key(self.prefix, slot, "leases"), member)
        except Exception as exc:  # noqa: BLE001 - it expires by itself
            logger.warning("shared crawl: cannot give a domain reservation back: %s", exc)

    def release(self, lease: str | None) -> None:
        """The leased request is done (its outcome is stored or queued)."""
        if lease is None:
            return
        self._items.pop(lease, None)
        self._output_done.discard(lease)
        try:
            self.server.hdel(self.inflight_key, lease)
        except Exception as exc:  # noqa: BLE001 - the lease stays: fetched again at worst
            logger.warning("shared crawl: cannot clear a lease: %s", _first_line(exc))
            self.stats.inc_value(st.SHARED_REDIS_ERRORS)

    def item_out(self, lease: str) -> None:
        self._items[lease] += 1

    def output_done(self, lease: str) -> None:
        """The callback's output is all out: the lease ends with the last of its items."""
        if self._items[lease] <= 0:
            self.release(lease)
        else:
            self._output_done.add(lease)

    def item_done(self, response: Any = None, **_: Any) -> None:
        lease = lease_of(response)
        if lease is None or lease not in self._items:
            return
        self._items[lease] -= 1
        if self._items[lease] <= 0 and lease in self._output_done:
            self.release(lease)

    # -- the end of a shared crawl ----------------------------------------------------------
    def spider_idle(self, **_: Any) -> None:
        """This worker has nothing left: stop only when the whole shared crawl has nothing left."""
        if self._closing:
            return
        try:
            done, back = self._script("idle")(keys=[self.queue_key, self.workers_key],
                                               args=[self.worker_id, int(self.worker_timeout), self.prefix])
        except Exception as exc:  # noqa: BLE001 - redis errors
            logger.error("shared crawl: Redis error while idle: %s", _first_line(exc))
            raise CloseSpider("shared_redis_error") from None
        self._recovered(back)
        if done:
            logger.info("shared crawl %s: queue empty and every worker idle", self.prefix)
            self.end_idle()
            return
        self.stats.inc_value(st.SHARED_IDLE_POLLS)
        if self._idle_since is None:
            self._idle_since = time.monotonic()
        if self._poll is None or not self._poll.running:
            from twisted.internet import task

            self._poll = task.LoopingCall(self._look)
            self._poll.start(self.idle_poll, now=False)
        raise DontCloseSpider

    def _look(self) -> None:
        """While idle: take a request that appeared in the queue and give it to the engine (which wakes it).

        With nothing to take, ask the end rule again: Scrapy asks ``spider_idle``
        again only at its engine's heartbeat (every 5 s), so without this a
        worker that went idle before the last busy one would wait up to 5 s
        more after the crawl is over.
        """
        engine = self.crawler.engine
        if self._closing or engine is None or self.crawler.spider is None or self.queue is None:
            return
        try:
            taken = self.take()
            if taken is None:
                if not engine.spider_is_idle():  # the engine took work itself meanwhile: not idle
                    return
                done, back = self._script("idle")(keys=[self.queue_key, self.workers_key],
                                                   args=[self.worker_id, int(self.worker_timeout), self.prefix])
                self._recovered(back)
        except Exception as exc:  # noqa: BLE001 - redis errors: try again at the next poll
            logger.warning("shared crawl: cannot read the queue: %s", _first_line(exc))
            return
        if taken is None:
            if done:
                logger.info("shared crawl %s: queue empty and every worker idle", self.prefix)
                self.end_idle()
                self._closing = True
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(engine.close_spider_async(reason="finished"))
            return
        request = self.queue.leased_request(*taken)  # decoded with the scheduler's serializer
        request.meta[m.SHARED_HANDOFF] = True
        self.end_idle()
        self.stats.inc_value(st.SHARED_HANDOFFS)
        self.stats.inc_value(st.SHARED_DEQUEUED)
        self.crawler.engine.crawl(request)


def lease_of(response: Any) -> str | None:
    """The lease of the request behind a response or a failure (None when there is none)."""
    request = getattr(response, "request", None)
    meta = getattr(request, "meta", None)
    return meta.get(m.SHARED_LEASE) if meta else None


class _WorkersComponent:
    """A middleware of a shared crawl: built with the crawl's :class:`SharedWorkers`, off otherwise."""

    def __init__(self, workers: SharedWorkers) -> None:
        self.workers = workers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        workers = crawler.get_extension(SharedWorkers)
        if workers is None:
            raise NotConfigured("not a shared crawl")
        return cls(workers)


class InFlightSpiderMiddleware(_WorkersComponent):
    """Spider middleware (outermost): a response's lease ends when its output has gone through.

    Requests yielded are in the shared queue once the engine has them; items
    are counted until the pipelines are done with them
    (:meth:`SharedWorkers.item_done`).
    """

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        lease = lease_of(response)
        if lease is None:
            async for out in result:
                yield out
            return
        try:
            async for out in result:
                if not _is_request(out):
                    self.workers.item_out(lease)
                yield out
        finally:
            self.workers.output_done(lease)


class InFlightDownloaderMiddleware(_WorkersComponent):
    """Downloader middleware (outermost): a failed request's lease ends as the failure goes to the errback.

    A retry or a redirect is a new request carrying the lease; the scheduler
    ends the lease once that request is in the queue.
    """

    def process_exception(self, request: Request, exception: Exception) -> None:
        self.workers.release(request.meta.get(m.SHARED_LEASE))


def _is_request(obj: Any) -> bool:
    from scrapy import Request

    return isinstance(obj, Request)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
