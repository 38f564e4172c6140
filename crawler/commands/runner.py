"""Run the `news` spider in-process and summarise what it did.

``python -m crawler crawl`` and the demo call :func:`run_crawl`; ``scrapy crawl
news`` runs the same spider with the same settings and pipelines.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

logger = logging.getLogger(__name__)


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's settings with command-line overrides at ``cmdline`` priority."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


@dataclass
class SourceSummary:
    pages_fetched: int = 0
    articles_stored: int = 0
    dropped: int = 0
    errors: int = 0
    start_errors: int = 0


@dataclass
class CrawlSummary:
    """What one crawl did, read from the crawler's stats."""

    finish_reason: str
    seconds: float
    pages_fetched: int
    articles_stored: int
    already_stored: int
    duplicates_merged: int
    dropped: Counter[str]
    skipped: Counter[str]
    robots_forbidden: int
    per_source: dict[str, SourceSummary] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None  # the crawl_runs row (crawler/scheduling/runs.py)

    #: finish reasons of a completed run (graceful SIGTERM / Ctrl-C is "shutdown")
    OK_REASONS = ("finished", "shutdown", "closespider_timeout", "closespider_itemcount",
                  "closespider_pagecount")

    @property
    def ok(self) -> bool:
        """Whether the run completed (exit 0); else it failed (e.g. the database went away)."""
        return self.finish_reason in self.OK_REASONS

    @property
    def skipped_stored(self) -> int:
        return int(self.stats.get("incremental/skipped_stored", 0))

    @property
    def not_modified(self) -> int:
        return int(self.stats.get("incremental/not_modified", 0))

    @classmethod
    def from_stats(cls, stats: dict[str, Any], sources: list[str], seconds: float) -> CrawlSummary:
        def prefixed(prefix: str) -> Counter[str]:
            return Counter({k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix) and "/" not in k[len(prefix):]})

        per_source = {}
        for name in sources:
            p = f"source/{name}/"
            per_source[name] = SourceSummary(
                pages_fetched=stats.get(p + "pages_fetched", 0),
                articles_stored=stats.get(p + "articles_stored", 0),
                dropped=stats.get(p + "dropped", 0),
                errors=stats.get(p + "errors", 0),
                start_errors=stats.get(p + "start_errors", 0),
            )
        return cls(
            finish_reason=str(stats.get("finish_reason", "unknown")),
            seconds=seconds,
            pages_fetched=stats.get("response_received_count", 0),
            articles_stored=stats.get("store/inserted", 0),
            already_stored=stats.get("store/already_stored", 0),
            duplicates_merged=stats.get("dedup/exact", 0) + stats.get("dedup/near_duplicate", 0),
            dropped=prefixed("clean/dropped/"),
            skipped=prefixed("discovery/skipped/"),
            robots_forbidden=stats.get("robotstxt/forbidden", 0),
            per_source=per_source,
            stats=stats,
        )

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
        if self.stats.get("shared/worker_id"):  # crawl --redis: this worker's share of the work
            lines.append(f"  shared crawl:       worker {self.stats['shared/worker_id']} took"
                         f" {self.stats.get('shared/dequeued', 0)} requests from the shared frontier")
        lines.append("  per source:          fetched  stored  dropped  errors")
        for name, s in sorted(self.per_source.items()):
            flag = "  DEAD: nothing fetched" if s.pages_fetched == 0 and s.errors else ""
            lines.append(
                f"    {name:<20} {s.pages_fetched:>7} {s.articles_stored:>7} {s.dropped:>8} {s.errors:>7}{flag}"
            )
        return "\n".join(lines)


def run_crawl(settings: Settings, sources_path: str, only: list[str] | None = None) -> CrawlSummary:
    """Crawl the sources of *sources_path* (all, or those named in *only*)."""
    process = CrawlerProcess(settings)  # root log handler: LOG_INSTALL_ROOT_HANDLER (off with --log-file)
    kwargs: dict[str, Any] = {"sources": sources_path}
    if only:
        kwargs["only"] = ",".join(only)
    crawler = process.create_crawler("news")  # by name (SPIDER_MODULES): no import of spiders/
    started = time.monotonic()
    process.crawl(crawler, **kwargs)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    names = list(getattr(crawler.spider, "sources", {}) or [])
    db = getattr(crawler, "news_database", None)
    if db is not None:
        db.close()
    summary = CrawlSummary.from_stats(stats, names, time.monotonic() - started)
    summary.run_id = getattr(crawler, "news_run_id", None)
    return summary
