"""Record every crawl in ``crawl_runs``: start, end, status, counts per source, errors.

:class:`RunRecorder` is a Scrapy extension (``EXTENSIONS``). When the crawler
starts (:meth:`RunRecorder.start_run`: when the store pipeline, built with the
engine, asks for the run's id -- extensions cannot reach the crawl's database
while they are being built -- or at ``spider_opened``) it marks the ``running``
rows whose process is gone as ``killed``, inserts this run as ``running`` and
exposes its id (``run_id``, which the store pipeline writes on each article and
``crawl`` reads after the crawl). While the crawl runs it refreshes
the row every ``RUNS_UPDATE_SECONDS`` (so a killed run still shows what it
did); at the end it writes the status -- ``finished`` or ``failed`` -- the
finish reason, the per-source counts, the errors and the crawler's stats.

Per source it counts pages fetched, articles stored, already-known pages
skipped, 304s, drops by reason and stored articles lacking a date: what
``python -m crawler stats`` needs to flag a dead or redesigned site.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy import select, update

from crawler.items import NotArticle
from crawler.scheduling.services import CrawlServices
from crawler.stats import OK_REASONS, RunTotals, SourceCounts, summarise
from crawler.storage.database import Database
from crawler.storage.models import CrawlRun
from crawler.storage.writer import AlreadyStored

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id runs on this machine."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_runs(db: Database, *, all_running: bool) -> int:
    """Mark ``running`` rows whose process is gone as ``killed``; returns how many.

    Args:
        all_running: the caller holds the database's crawl lock, so no other
            crawl can be running: every ``running`` row is dead. Otherwise only
            rows of this host whose pid no longer exists are.
    """
    host = socket.gethostname()
    with db.begin() as session:
        rows = session.execute(select(CrawlRun.id, CrawlRun.pid, CrawlRun.host)
                                .where(CrawlRun.status == "running")).all()
        dead = [r.id for r in rows
                if all_running or (r.host == host and r.pid != os.getpid() and not pid_alive(r.pid))]
        if dead:
            session.execute(update(CrawlRun).where(CrawlRun.id.in_(dead))
                            .values(status="killed", finish_reason="killed"))
    if dead:
        logger.warning("marked %d earlier run(s) as killed: %s", len(dead), dead)
    return len(dead)


def per_source_counts(totals: RunTotals | dict[str, Any],
                      extra: dict[str, Counter[str]]) -> dict[str, dict[str, Any]]:
    """Counts per source (:func:`crawler.stats.summarise`'s) plus the recorder's own (*extra*)."""
    if not isinstance(totals, RunTotals):
        totals = summarise(totals)
    out: dict[str, dict[str, Any]] = {name: asdict(counts) for name, counts in totals.per_source.items()}
    for name, counter in extra.items():
        out.setdefault(name, asdict(SourceCounts())).update(counter)
    for counts in out.values():
        for key in ("articles_seen", "no_date", "no_title"):
            counts.setdefault(key, 0)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class RunRecorder:
    """Scrapy extension writing this crawl's row of ``crawl_runs``.

    Settings:
        RUNS_ENABLED: record runs (default True).
        RUNS_UPDATE_SECONDS: refresh the running row this often (default 60; 0: never).
        RUNS_MAX_ERRORS: error messages kept per run (default 50).
        LOCK_HELD: set by ``crawl`` when it holds the overlap lock (every
            ``running`` row is then known dead).
    """

    def __init__(self, crawler: Crawler, *, update_seconds: float = 60, max_errors: int = 50,
                 lock_held: bool = False) -> None:
        self.crawler = crawler
        self.db: Database | None = None  # the crawl's (CrawlServices), from start_run on
        self.lock_held = lock_held
        self.update_seconds = update_seconds
        self.max_errors = max_errors
        self.errors: list[dict[str, Any]] = []
        self.extra: dict[str, Counter[str]] = defaultdict(Counter)
        self.run_id: int | None = None
        self._task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        settings = crawler.settings
        if not settings.getbool("RUNS_ENABLED"):
            raise NotConfigured("RUNS_ENABLED is off")
        ext = cls(crawler, update_seconds=settings.getfloat("RUNS_UPDATE_SECONDS"),
                  max_errors=settings.getint("RUNS_MAX_ERRORS"), lock_held=settings.getbool("LOCK_HELD"))
        for handler, signal in ((ext.spider_opened, signals.spider_opened), (ext.spider_closed, signals.spider_closed),
                                (ext.spider_error, signals.spider_error), (ext.item_error, signals.item_error),
                                (ext.item_scraped, signals.item_scraped), (ext.item_dropped, signals.item_dropped)):
            crawler.signals.connect(handler, signal=signal)
        return ext

    def start_run(self) -> int | None:
        """Insert this crawl's ``running`` row, once, and return its id (``run_id``).

        The first component that needs the id asks for it: the store pipeline,
        built with the engine right after the extensions (an extension cannot
        reach another while they are being built, so the database of
        :class:`CrawlServices` is not taken earlier); else ``spider_opened``.
        Earlier ``running`` rows whose process is gone are marked ``killed`` first.
        """
        if self.run_id is not None:
            return self.run_id
        self.db = CrawlServices.of(self.crawler).database
        mark_dead_runs(self.db, all_running=self.lock_held)
        with self.db.begin() as session:
            run = CrawlRun(started_at=datetime.now(UTC), status="running", pid=os.getpid(),
                           host=socket.gethostname(), pages_fetched=0, articles_stored=0,
                           duplicates_merged=0, per_source={}, errors=[], stats={})
            session.add(run)
            session.flush()
            self.run_id = run.id
        logger.info("crawl run %s started", self.run_id)
        return self.run_id

    # -- signals ------------------------------------------------------------------------
    def spider_opened(self, **_: Any) -> None:
        self.start_run()
        if self.update_seconds > 0:
            from twisted.internet import task

            self._task = task.LoopingCall(self.save, "running", None)
            self._task.start(self.update_seconds, now=False)

    def _error(self, kind: str, message: str) -> None:
        if len(self.errors) < self.max_errors:
            self.errors.append({"kind": kind, "message": message[:500], "at": datetime.now(UTC).isoformat()})

    def spider_error(self, failure: Failure, response: Response | None = None, **_: Any) -> None:
        self._error("spider", f"{getattr(response, 'url', '')}: {failure.getErrorMessage()}")

    def item_error(self, item: Any, failure: Failure | None = None, **_: Any) -> None:
        site = getattr(item, "site", "unknown")
        self.extra[site]["item_errors"] += 1
        self._error("item", f"{getattr(item, 'url', '')}: {failure.getErrorMessage() if failure else ''}")

    def item_scraped(self, item: Any, **_: Any) -> None:
        site = getattr(item, "site", None)
        if site is None:
            return
        counter = self.extra[site]
        counter["articles_seen"] += 1
        if not getattr(item, "published_at", None):
            counter["no_date"] += 1
        if not getattr(item, "title", None):
            counter["no_title"] += 1

    def item_dropped(self, item: Any, exception: BaseException | None = None, **_: Any) -> None:
        if isinstance(exception, AlreadyStored):  # an article seen again: counted as one
            self.item_scraped(item)
            return
        site = getattr(item, "site", None)
        if site is None:
            return
        reason = exception.reason if isinstance(exception, NotArticle) else "dropped"
        self.extra[site][f"dropped_{reason}"] += 1

    def spider_closed(self, reason: str = "finished", **_: Any) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        try:
            self.start_run()  # a crawl closed before it opened is recorded too
        except Exception as exc:  # the database may be away: the run record is not worth a crash
            logger.error("cannot record the crawl run: %s", str(exc).splitlines()[0] if str(exc) else exc)
        status = "finished" if reason in OK_REASONS else "failed"
        self.save(status, reason)
        logger.info("crawl run %s %s (%s)", self.run_id, status, reason)

    # -- writing -----------------------------------------------------------------------
    def save(self, status: str, reason: str | None) -> None:
        """Write the run's counts (and its end when *status* is not ``running``)."""
        stats = {k: _jsonable(v) for k, v in self.crawler.stats.get_stats().items()}
        totals = summarise(stats)
        values: dict[str, Any] = {
            "status": status, "finish_reason": reason,
            "pages_fetched": totals.pages_fetched,
            "articles_stored": totals.articles_stored,
            "duplicates_merged": totals.duplicates_merged,
            "per_source": per_source_counts(totals, self.extra), "errors": list(self.errors), "stats": stats,
        }
        if status != "running":
            values["finished_at"] = datetime.now(UTC)
        if self.db is None:
            return
        try:
            with self.db.begin() as session:
                session.execute(update(CrawlRun).where(CrawlRun.id == self.run_id).values(**values))
        except Exception as exc:  # the database may be away: the run record is not worth a crash
            logger.error("cannot record crawl run %s: %s", self.run_id, str(exc).splitlines()[0])
