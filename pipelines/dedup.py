"""DedupPipeline: the Scrapy adapter of :class:`crawler.dedup.clusterer.Deduplicator`.

Every article copy gets its cluster (``cluster_id``, ``content_hash``,
``signature`` and, when merged, ``dup_of_url``/``dup_method``/``dup_score``);
copies are never dropped. Settings: ``DEDUP_*`` (``crawler/settings.py``).

In a crawl, the items that arrive while a batch runs are gathered (at most
``DEDUP_BATCH_SIZE``) and each batch is clustered and committed in one
transaction on the database's thread (:class:`crawler.offload.BatchQueue`),
off the reactor.

On PostgreSQL (``DEDUP_LOCKS``), a batch holds the advisory locks of its band
keys (:mod:`crawler.dedup.locks`) until each of its items has left the item
pipeline (Scrapy's ``item_scraped``, ``item_dropped`` or ``item_error``: the
store pipeline has written it, or it will not be written), so that the workers
of a shared crawl cluster as one process would. Batches are then clustered on a
thread of their own: a batch waiting for another worker's locks must not hold
back this worker's writes, which release its own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.dedup.clusterer import Deduplicator
from crawler.offload import BatchQueue, ThreadStats, asyncio_loop_available
from crawler.scheduling.services import CrawlServices

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.crawler import Crawler

    from crawler.dedup.locks import HeldLocks


class DedupPipeline(Deduplicator):
    """Near-duplicate merging of crawled articles and their headlines."""

    batches: BatchQueue[Any, Any] | None = None
    thread_stats: ThreadStats | None = None
    _threads: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | tuple[()] = ()  # dedup, unlock (with locks)
    _holding: dict[str, list[HeldLocks]]  # url -> locks held for its item(s)
    _left: dict[HeldLocks, int]  # held locks -> items of their batch still in the pipeline

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
        pipeline.enable_locks(settings)
        if pipeline.locks is None:
            pipeline.batches = BatchQueue(pipeline.process_batch, db.executor, size=size)
            return pipeline
        pipeline._threads = (ThreadPoolExecutor(1, thread_name_prefix="dedup"),
                             ThreadPoolExecutor(1, thread_name_prefix="dedup-unlock"))
        pipeline._holding, pipeline._left = {}, {}
        pipeline.batches = BatchQueue(pipeline._process_held, pipeline._threads[0], size=size)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(pipeline._item_left, signal=signal)
        return pipeline

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        if self._threads:
            for held in list(self._left):  # items still in the pipeline at close
                held.release()
            self._left.clear()
            self._holding.clear()
            for executor in self._threads:
                executor.shutdown(wait=True)
        self.close()
        if self.thread_stats is not None:
            self.thread_stats.apply()

    def process_item(self, item: Any) -> Any | Awaitable[Any]:
        if self.batches is not None:
            return self._process_batched(item)
        return self.process_batch([item])[0]

    async def _process_batched(self, item: Any) -> Any:
        try:
            result = await self.batches.submit(item)  # type: ignore[union-attr]
        finally:
            self.thread_stats.apply()  # type: ignore[union-attr]
        if not self._threads:
            return result
        item, held = result
        self._holding.setdefault(ItemAdapter(item)["url"], []).append(held)
        return item

    def _process_held(self, items: list[Any]) -> list[tuple[Any, HeldLocks]]:
        """One batch on the dedup thread: each item with the locks its batch holds."""
        items, held = self.process_batch_held(items)
        self._left[held] = len(items)  # the reactor thread counts it down; it sees it after this returns
        return [(item, held) for item in items]

    def _item_left(self, item: Any, **_kwargs: Any) -> None:
        """An item left the item pipeline: the last one of its batch releases the batch's locks."""
        try:
            url = ItemAdapter(item).get("url")
        except TypeError:  # not an item type
            return
        waiting = self._holding.get(url)
        if not waiting:  # dropped before de-duplication (too short, not an article)
            return
        held = waiting.pop(0)
        if not waiting:
            del self._holding[url]
        left = self._left.get(held, 0) - 1
        if left > 0:
            self._left[held] = left
            return
        self._left.pop(held, None)
        self._threads[1].submit(held.release)
