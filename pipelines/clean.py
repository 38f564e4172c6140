"""CleanPipeline: the Scrapy adapter of :class:`crawler.extract.cleaner.ArticleCleaner`.

Each page is extracted (title, body, date, authors, tags, attribution, related
headlines, boilerplate stripped); pages that are not Arabic news articles are
dropped with a reason. Settings: ``CLEAN_*`` (``crawler/settings.py``).

Once a crawl has scheduled more than ``CLEAN_WORKERS_AFTER`` requests (a sitemap
or a section page usually brings them at once, before the first article arrives),
extraction runs in ``CLEAN_WORKERS`` worker processes
(:class:`crawler.offload.WorkerProcesses`), off the reactor and on the other cores;
the pages that arrive while they start are extracted in-process.
"""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any


from scrapy import signals

from crawler.extract import Extraction, extract_article
from crawler.extract.cleaner import ArticleCleaner
from crawler.offload import BatchQueue, WorkerProcesses, asyncio_loop_available
from crawler.scheduling.services import CrawlServices

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def extract_many(calls: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Extraction]:
    """:func:`extract_article` of each ``(args, kwargs)`` (in a worker process)."""
    return [extract_article(*args, **kwargs) for args, kwargs in calls]


class CleanPipeline(ArticleCleaner):
    """Turn fetched pages into clean articles."""

    workers: WorkerProcesses | None = None
    workers_after = 0
    _pages = 0
    _scheduled = 0
    _closed = False
    _batches: BatchQueue[Any, Extraction] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        settings = crawler.settings
        db = CrawlServices.of(crawler).database if settings.getbool("CLEAN_LEARN_TEMPLATE") else None
        sources = getattr(crawler.spider, "sources", {}) if crawler.spider else {}
        patterns = {name: s.boilerplate_patterns for name, s in sources.items()}
        pipeline = cls.build(settings, crawler.stats, db, patterns)
        workers = settings.getint("CLEAN_WORKERS")
        if workers > 0 and asyncio_loop_available():
            pipeline.workers = WorkerProcesses(workers, ("crawler.extract",))
            pipeline.workers_after = settings.getint("CLEAN_WORKERS_AFTER")
            crawler.signals.connect(pipeline._request_scheduled, signal=signals.request_scheduled)
            pipeline._signals = crawler.signals
        return pipeline

    def _request_scheduled(self) -> None:
        """Start the workers as soon as the crawl is known to be large enough (its requests so far)."""
        self._scheduled += 1
        if self._scheduled > self.workers_after and self.workers is not None and not self._closed:
            self.workers.start()
            self._signals.disconnect(self._request_scheduled, signal=signals.request_scheduled)

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        self._closed = True
        if self.workers is not None:
            self.workers.close()
        self.close()

    def process_item(self, item: Any) -> Any | Awaitable[Any]:
        workers = self.workers
        if workers is None or workers.broken:
            return self.process(item)
        self._pages += 1
        if not workers.started and self._pages > self.workers_after:
            workers.start()
        call = self.extraction_call(item) if workers.ready else None
        if call is None:
            return self.process(item)
        if self._batches is None:
            # The pages that arrive while the workers extract go together: one task (one
            # pickle, one wake-up of the pool's threads) per batch instead of per page.
            self._batches = BatchQueue(extract_many, workers.executor, size=16, concurrency=workers.workers)
        return self._process_in_worker(item, call)

    async def _process_in_worker(self, item: Any, call: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        try:
            result = await self._batches.submit(call)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - a worker that died must not stop the crawl
            if isinstance(exc, BrokenProcessPool):
                self.workers.broken = True  # type: ignore[union-attr]
            self.stats.inc_value("clean/worker_errors")
            if not self.workers.broken:  # type: ignore[union-attr]
                logger.warning("extraction worker failed on %s (%r); extracting it in-process", call[0][1], exc)
                return self.process(item)
            # The page may be what killed the worker: it is not extracted again in this process.
            logger.warning("extraction worker died on %s; extracting in-process from now on", call[0][1])
            result = Extraction.failed("worker_error")
        else:
            self.stats.inc_value("clean/extracted_in_workers")
        return self.process_extracted(item, result)
