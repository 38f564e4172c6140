"""Run the `news` spider in-process and summarise what it did.

``python -m crawler crawl`` and the demo call :func:`run_crawl`; ``scrapy crawl
news`` runs the same spider with the same settings and pipelines.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from dataclasses import dataclass, field, fields
from collections.abc import Callable
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.ossignal import install_shutdown_handlers
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler import stats as st
from crawler.scheduling.runs import RunRecorder
from crawler.scheduling.services import CrawlServices
from crawler.stats import RunTotals, summarise

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: young-generation threshold of the cyclic GC during a crawl (Python's default: 700)
GC_YOUNG_THRESHOLD = 10_000


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's settings with command-line overrides at ``cmdline`` priority."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


@dataclass
class CrawlSummary(RunTotals):
    """What one crawl did: :func:`crawler.stats.summarise` of its stats, plus its time and run id."""

    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None  # the crawl_runs row (crawler/scheduling/runs.py)

    @classmethod
    def from_stats(cls, stats: dict[str, Any], sources: list[str], seconds: float) -> CrawlSummary:
        totals = summarise(stats, sources)
        return cls(**{f.name: getattr(totals, f.name) for f in fields(totals)}, seconds=seconds, stats=stats)

    def render(self) -> str:
        """The summary printed at the end of `crawl`."""
        lines = [
            f"Crawl {self.finish_reason} in {self.seconds:.1f} s",
            f"  pages fetched:      {self.pages_fetched}",
            f"  articles stored:    {self.articles_stored} (already stored: {self.already_stored})",
            f"  duplicates merged:  {self.duplicates_merged}",
            f"  pages dropped:      {sum(self.dropped.values())}"
            + (f" ({', '.join(f'{k} {v}' for k, v in sorted(self.dropped.items()))})" if self.dropped else ""),
            f"  links skipped:      {sum(self.skipped.values())}"
            + (f" ({', '.join(f'{k} {v}' for k, v in sorted(self.skipped.items()))})" if self.skipped else ""),
            f"  robots.txt refused: {self.robots_forbidden}",
            f"  already known:      {self.skipped_stored} not fetched, {self.not_modified} unchanged (304)",
        ]
        if self.stats.get(st.SHARED_WORKER_ID):  # crawl --redis: this worker's share of the work
            lines.append(f"  shared crawl:       worker {self.stats[st.SHARED_WORKER_ID]} took"
                         f" {self.stats.get(st.SHARED_DEQUEUED, 0)} requests from the shared frontier")
        lines.append("  per source:          fetched  stored  dropped  errors")
        for name, s in sorted(self.per_source.items()):
            flag = "  DEAD: nothing fetched" if s.pages_fetched == 0 and s.errors else ""
            lines.append(
                f"    {name:<20} {s.pages_fetched:>7} {s.articles_stored:>7} {s.dropped:>8} {s.errors:>7}{flag}"
            )
        return "\n".join(lines)


class PatientCrawlerProcess(CrawlerProcess):
    """A process whose second SIGTERM/SIGINT does not abandon the graceful shutdown.

    Scrapy stops the reactor at once on a second signal: the pipelines never close, so the
    pending batch (whose index rows are already written) is lost and the run stays 'running'.
    Here the second signal is logged and the shutdown goes on (the writes of one batch take
    seconds); a third forces the stop as Scrapy's second would (or SIGKILL, which a re-run repairs).
    """

    def _signal_kill(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        install_shutdown_handlers(super()._signal_kill)
        reactor.callFromThread(logger.warning, "Received signal %s again: still finishing the pending writes "
                               "(send it once more to force an unclean stop)", signum)

    def _signal_kill_reactorless(self, signum: int, frame: Any) -> None:
        install_shutdown_handlers(super()._signal_kill_reactorless)


def run_crawl(settings: Settings, sources_path: str, only: list[str] | None = None) -> CrawlSummary:
    """Crawl the sources of *sources_path* (all, or those named in *only*)."""
    process = PatientCrawlerProcess(settings)  # root log handler: LOG_INSTALL_ROOT_HANDLER (off with --log-file)
    kwargs: dict[str, Any] = {"sources": sources_path}
    if only:
        kwargs["only"] = ",".join(only)
    crawler = process.create_crawler("news")  # by name (SPIDER_MODULES): no import of spiders/
    started = time.monotonic()
    restore = _settle_heap(crawler)
    try:
        process.crawl(crawler, **kwargs)
        process.start()
    finally:
        restore()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    names = list(getattr(crawler.spider, "sources", {}) or [])
    services = _extension(crawler, CrawlServices)
    if services is not None:
        services.close()
    summary = CrawlSummary.from_stats(stats, names, time.monotonic() - started)
    recorder = _extension(crawler, RunRecorder)
    summary.run_id = recorder.run_id if recorder is not None else None
    return summary


def _settle_heap(crawler: Crawler) -> Callable[[], None]:
    """Keep the cyclic garbage collector off the start-up heap of a crawl.

    The collector is paused while the crawl starts (imports, settings, the database opened),
    and once the spider is open everything alive is frozen (:func:`gc.freeze`: never traversed
    again) and the collector resumes, its young generation collected every
    :data:`GC_YOUNG_THRESHOLD` allocations. Without it, a crawl spent 0.6 of its 4.3 CPU s
    in collections, most in full ones walking the modules' objects (docs/benchmarks.md).
    Returns the function that puts the collector back as it was (after the crawl).
    """
    was_enabled = gc.isenabled()
    thresholds = gc.get_threshold()
    gc.disable()

    def opened() -> None:
        gc.freeze()
        gc.set_threshold(max(GC_YOUNG_THRESHOLD, thresholds[0]), *thresholds[1:])
        if was_enabled:
            gc.enable()

    def restore() -> None:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        if was_enabled:
            gc.enable()

    crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)
    return restore


def _extension(crawler: Crawler, cls: type[T]) -> T | None:
    """The crawler's instance of extension *cls*; None when disabled or never built (the crawl failed first)."""
    try:
        return crawler.get_extension(cls)
    except RuntimeError:  # the extension manager was never built
        return None
