"""DedupPipeline: the Scrapy adapter of :class:`crawler.dedup.clusterer.Deduplicator`.

Every article copy gets its cluster (``cluster_id``, ``content_hash``,
``signature`` and, when merged, ``dup_of_url``/``dup_method``/``dup_score``);
copies are never dropped. Settings: ``DEDUP_*`` (``crawler/settings.py``).

In a crawl, the items that arrive while a batch runs are gathered (at most
``DEDUP_BATCH_SIZE``) and each batch is clustered and committed in one
transaction on the database's thread (:class:`crawler.offload.BatchQueue`),
off the reactor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.dedup.clusterer import Deduplicator
from crawler.offload import BatchQueue, ThreadStats, asyncio_loop_available
from crawler.scheduling.services import CrawlServices

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.crawler import Crawler


class DedupPipeline(Deduplicator):
    """Near-duplicate merging of crawled articles and their headlines."""

    batches: BatchQueue[Any, Any] | None = None
    thread_stats: ThreadStats | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        settings = crawler.settings
        if not settings.getbool("DEDUP_ENABLED"):
            raise NotConfigured("DEDUP_ENABLED is off")
        db = CrawlServices.of(crawler).database
        size = settings.getint("DEDUP_BATCH_SIZE")
        if size <= 1 or not asyncio_loop_available():
            return cls.build(settings, crawler.stats, db)
        thread_stats = ThreadStats(crawler.stats)
        pipeline = cls.build(settings, thread_stats, db)
        pipeline.thread_stats = thread_stats
        pipeline.batches = BatchQueue(pipeline.process_batch, db.executor, size=size)
        return pipeline

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        self.close()
        if self.thread_stats is not None:
            self.thread_stats.apply()

    def process_item(self, item: Any) -> Any | Awaitable[Any]:
        if self.batches is not None:
            return self._process_batched(item)
        return self.process_batch([item])[0]

    async def _process_batched(self, item: Any) -> Any:
        try:
            return await self.batches.submit(item)  # type: ignore[union-attr]
        finally:
            self.thread_stats.apply()  # type: ignore[union-attr]
