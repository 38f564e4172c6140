"""Politeness across the workers of a shared crawl: one per-domain delay and concurrency for all of them.

Scrapy's download slots (``DOWNLOAD_DELAY``, ``CONCURRENT_REQUESTS_PER_DOMAIN``,
AutoThrottle) live in one process: three workers would hit a site three
times as hard. scrapy-redis shares the queue, not the slots.
:class:`GlobalPolitenessMiddleware` gates every download on Redis instead:

- concurrency: a per-domain sorted set of leases (``<prefix>:domain:<host>:leases``,
  member = lease, score = expiry in ms); a request waits until fewer than
  ``REDIS_DOMAIN_CONCURRENCY`` live leases are held, takes one (one Lua
  script: expired leases are dropped first, so a killed worker's leases
  free themselves after ``REDIS_DOMAIN_LEASE_SECONDS``), and gives it back
  when its response or failure comes back;
- delay: a per-domain next-allowed time (``<prefix>:domain:<host>:next``, Redis
  server time in ms); a request reserves the next free instant atomically
  (another Lua script) and sleeps until then.

The lease is taken before the instant is reserved, so a request never waits
for a lease after its instant (which would let two requests land closer than
the delay). Requests seldom wait for a lease: the shared queue's pop
(:class:`crawler.scheduling.shared.LeasedPriorityQueue`) takes only a request
whose domain has a free lease, so a worker does not hoard requests here; a
request that waits asks again every ``REDIS_DOMAIN_POLL_SECONDS`` and is woken
at once when this worker gives a lease of its domain back. In a shared crawl with this gate, :func:`global_politeness` turns
the local delay, its jitter, AutoThrottle and per-domain concurrency off (they
would move a request past its reserved instant) and keeps their values for the gate.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler import meta as m
from crawler import stats as st
from crawler.scheduling.services import CrawlServices
from crawler.scheduling.shared import crawler_prefix, domain_key, domain_slot

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import Settings

    from crawler.scheduling.workers import SharedWorkers

logger = logging.getLogger(__name__)

__all__ = ["LOCAL_NO_LIMIT", "GlobalPolitenessMiddleware", "global_politeness"]

#: a worker's own per-domain concurrency under the gate: no limit (0 would not do: a Scrapy slot of 0 sends nothing)
LOCAL_NO_LIMIT = sys.maxsize

_NOW_MS = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
# KEYS: next-allowed key, the crawl's set of domain keys; ARGV: delay ms. Reserve the next
# instant: returns {ms to wait, the instant (Redis time, ms)}.
_RESERVE = _NOW_MS + """
redis.call('SADD', KEYS[2], KEYS[1])
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local nxt = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', nxt - now + 60000)
return {start - now, start}
"""
# KEYS: leases key, the crawl's set of domain keys; ARGV: lease, concurrency, ttl ms[, reservation].
# 1 when a lease was taken (in place of the reservation the pop made for the request, if any).
_ACQUIRE = _NOW_MS + """
redis.call('SADD', KEYS[2], KEYS[1])
if ARGV[4] then redis.call('ZREM', KEYS[1], ARGV[4]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


def global_politeness(settings: Settings) -> dict[str, int]:
    """Move the per-domain delay and concurrency from the local slots to the gate; its middleware entry.

    ``REDIS_DOMAIN_DELAY`` / ``REDIS_DOMAIN_CONCURRENCY`` left unset take
    ``DOWNLOAD_DELAY`` / ``CONCURRENT_REQUESTS_PER_DOMAIN``.
    """
    if settings.get("REDIS_DOMAIN_DELAY") is None:
        settings.set("REDIS_DOMAIN_DELAY", settings.getfloat("DOWNLOAD_DELAY"), priority="cmdline")
    if settings.get("REDIS_DOMAIN_CONCURRENCY") is None:
        settings.set("REDIS_DOMAIN_CONCURRENCY", settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                     priority="cmdline")
    # The local per-domain limit goes too: Scrapy's download slot queues what the middlewares let
    # through, so a slot at its limit would hold a request the gate let go until another download of
    # the domain ends, and send it past its instant, close to the next worker's request.
    for name, value in (("DOWNLOAD_DELAY", 0), ("DOWNLOAD_DELAY_JITTER", 0), ("AUTOTHROTTLE_ENABLED", False),
                        ("CONCURRENT_REQUESTS_PER_DOMAIN", LOCAL_NO_LIMIT)):
        settings.set(name, value, priority="cmdline")
    # After every process_request (robots.txt, incremental skips and the budget come first:
    # a skipped request takes no turn) and first to see the response.
    return {"crawler.scheduling.politeness.GlobalPolitenessMiddleware": 960}


class GlobalPolitenessMiddleware:
    """Downloader middleware: per-domain delay and concurrency shared by every worker, through Redis.

    Settings:
        REDIS_GLOBAL_POLITENESS: on by default in a shared crawl.
        REDIS_DOMAIN_DELAY: seconds between two requests to a domain, across workers.
        REDIS_DOMAIN_CONCURRENCY: requests to a domain at once, across workers (0: no limit).
        REDIS_DOMAIN_LEASE_SECONDS: a concurrency lease not given back (a killed worker) expires then.
        REDIS_DOMAIN_POLL_SECONDS: how often a request waiting for a lease asks again.
    """

    def __init__(self, server: Redis, prefix: str, worker: str, stats: Any, workers: SharedWorkers | None = None, *,
                 delay: float, concurrency: int, lease_seconds: float, poll: float,
                 crawler: Crawler | None = None) -> None:
        self.workers = workers
        self.crawler = crawler  # its downloader's slots: does one hold a request the gate let go?
        self._warned_held = False
        self._freed: dict[str, asyncio.Event] = {}  # lease key -> set when this worker gives one back
        self.server = server
        self.prefix = prefix
        self.domains_key = f"{prefix}:domains"  # the last worker out deletes these keys
        self.worker = worker
        self.stats = stats
        self.delay_ms = int(round(delay * 1000))
        self.concurrency = concurrency
        self.lease_ms = int(lease_seconds * 1000)
        self.poll = poll
        self._reserve = server.register_script(_RESERVE)
        self._acquire = server.register_script(_ACQUIRE)
        self._n = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GlobalPolitenessMiddleware:
        settings = crawler.settings
        if not settings.get("REDIS_URL") or not settings.getbool("REDIS_GLOBAL_POLITENESS"):
            raise NotConfigured("not a shared crawl, or REDIS_GLOBAL_POLITENESS is off")
        from crawler.scheduling.workers import SharedWorkers

        workers = crawler.get_extension(SharedWorkers)
        worker = workers.worker_id if workers is not None else "solo"
        return cls(CrawlServices.of(crawler).redis, crawler_prefix(crawler), worker, crawler.stats, workers,
                   delay=settings.getfloat("REDIS_DOMAIN_DELAY"),
                   concurrency=settings.getint("REDIS_DOMAIN_CONCURRENCY"),
                   lease_seconds=settings.getfloat("REDIS_DOMAIN_LEASE_SECONDS"),
                   poll=settings.getfloat("REDIS_DOMAIN_POLL_SECONDS"), crawler=crawler)

    async def process_request(self, request: Request) -> None:
        slot = domain_slot(request)
        if self.concurrency > 0:
            key = domain_key(self.prefix, slot, "leases")
            self._n += 1
            lease = f"{self.worker}:{self._n}"
            waited_since = None
            args: list[Any] = [lease, self.concurrency, self.lease_ms]
            if self.workers is not None:
                reserved = self.workers.claim_reservation(request, slot)
                if reserved is not None:
                    args.append(reserved)
            while not self._acquire(keys=[key, self.domains_key], args=args):
                args = args[:3]  # the reservation, if any, is gone
                # Rare: the pop takes only requests whose domain is free; a request that did not
                # come from the queue (robots.txt), or another worker that took the lease first.
                waited_since = waited_since or time.monotonic()
                self.stats.inc_value(st.POLITENESS_BUSY)
                freed = self._freed.setdefault(key, asyncio.Event())
                freed.clear()
                try:  # woken at once when this worker gives a lease of the domain back
                    await asyncio.wait_for(freed.wait(), self.poll)
                except TimeoutError:
                    pass
            if waited_since is not None:
                self.stats.inc_value(st.POLITENESS_BUSY_SECONDS, time.monotonic() - waited_since)
            request.meta[m.SHARED_DOMAIN_LEASE] = (key, lease)
        instant, late = None, 0.0
        if self.delay_ms > 0:
            wait_ms, instant = self._reserve(keys=[domain_key(self.prefix, slot, "next"), self.domains_key],
                                             args=[self.delay_ms])
            if wait_ms > 0:
                self.stats.inc_value(st.POLITENESS_WAITS)
                self.stats.inc_value(st.POLITENESS_WAIT_SECONDS, wait_ms / 1000)
                due = time.monotonic() + wait_ms / 1000
                await asyncio.sleep(wait_ms / 1000)
                # A loop busy with a page (extraction is synchronous) wakes the request late: the
                # gap to the next request to the domain, from any worker, is that much shorter.
                late = time.monotonic() - due
                self.stats.max_value(st.POLITENESS_LATE_MAX, round(late, 3))
        if self._held_locally(request):
            self.stats.inc_value(st.POLITENESS_HELD)
            if not self._warned_held:
                self._warned_held = True
                logger.warning("shared crawl: Scrapy's download slot of %s holds requests the politeness gate let "
                               "go: they leave late, closer than REDIS_DOMAIN_DELAY to the next request to the "
                               "domain (its per-domain concurrency or delay should be the gate's alone)", slot)
        # The gate's record (the tests check the instants' spacing and that every request passed here).
        logger.debug("politeness gate: %s let go at %s ms (Redis time), %.3f s late: %s", slot, instant, late,
                     request.url)

    def _held_locally(self, request: Request) -> bool:
        """Whether the local download slot will queue *request*, now that the gate let it go.

        Scrapy's slot queue comes after the downloader middlewares: a slot with
        no free transfer slot, requests queued before, or a delay of its own
        sends the request after its instant (a slot not made yet holds nothing).
        """
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is None:
            return False
        downloader = engine.downloader
        local = downloader.slots.get(downloader.get_slot_key(request))
        if local is None:
            return False
        return bool(local.queue or local.latercall or local.free_transfer_slots() <= 0
                    or (local.delay and time.monotonic() - local.lastseen < local.delay))

    def _give_back(self, request: Request) -> None:
        if self.workers is not None:  # skipped before the gate (robots.txt, incremental, budget): its turn is free
            self.workers.drop_reservation(request)
        held = request.meta.pop(m.SHARED_DOMAIN_LEASE, None)
        if held is not None:
            try:
                self.server.zrem(held[0], held[1])
            except Exception as exc:  # noqa: BLE001 - it expires by itself
                logger.warning("shared crawl: cannot give a domain lease back: %s", exc)
            freed = self._freed.get(held[0])
            if freed is not None:
                freed.set()

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_back(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request)
