"""StorePipeline: the Scrapy adapter of :class:`crawler.storage.writer.ArticleWriter`.

Articles are written in batches, idempotently (keyed by canonical URL). If the
database stays away, the crawl is closed with reason ``database_unavailable``.
Each new article's contract record (:class:`crawler.items.ArticleRecord`) is
the item passed on, so it is what feed exports (``-o FILE``) write; an article
stored already (or twice in one run) is dropped (``AlreadyStored``, INFO).
Settings: ``STORAGE_*`` (``crawler/settings.py``).

In a crawl, items are written on the database's thread, off the reactor: an
item is written as soon as no write is running, with the items that arrived
while one ran (at most ``STORAGE_BATCH_SIZE`` per transaction;
:class:`crawler.offload.BatchQueue`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.utils.defer import deferred_from_coro

from crawler.items import article_record
from crawler.offload import BatchQueue, ThreadStats, asyncio_loop_available
from crawler.scheduling.runs import RunRecorder
from crawler.scheduling.services import CrawlServices
from crawler.storage.database import StorageError, describe_url
from crawler.storage.writer import AlreadyStored, ArticleWriter

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.crawler import Crawler

    from crawler.items import ArticleRecord


class StorePipeline(ArticleWriter):
    """Batched, idempotent writes of crawled articles."""

    batches: BatchQueue[Any, Any] | None = None
    thread_stats: ThreadStats | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        recorder = crawler.get_extension(RunRecorder)  # None when RUNS_ENABLED is off
        run_id = recorder.start_run() if recorder is not None else None
        db = CrawlServices.of(crawler).database
        if not asyncio_loop_available():
            pipeline = cls.build(crawler.settings, crawler.stats, db, run_id)
        else:
            thread_stats = ThreadStats(crawler.stats)
            pipeline = cls.build(crawler.settings, thread_stats, db, run_id)
            pipeline.thread_stats = thread_stats
            pipeline.batches = BatchQueue(pipeline._write_items, db.executor, size=pipeline.batch_size)

        def close_crawl(reason: str) -> None:
            if crawler.engine is not None:
                deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

        def close_crawl_from_any_thread(reason: str) -> None:
            from twisted.internet import reactor

            reactor.callFromThread(close_crawl, reason)  # type: ignore[attr-defined]

        pipeline.on_unavailable = close_crawl if pipeline.batches is None else close_crawl_from_any_thread
        return pipeline

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        try:
            self.close()
        finally:
            if self.thread_stats is not None:
                self.thread_stats.apply()

    def process_item(self, item: Any) -> ArticleRecord | Awaitable[ArticleRecord]:
        if self.batches is None:
            record = self.store(item)
            if record is None:
                raise AlreadyStored(ItemAdapter(item)["url"])
            return record
        if self.unavailable:  # the crawl is closing: do not wait for the database again
            self._pending.append(ItemAdapter(item).asdict())
            raise StorageError(f"database {describe_url(self.db.url)} unavailable: {item.url} not stored")
        return self._write_batched(item)

    def _write_items(self, items: list[Any]) -> list[bool]:
        """One batch, on the database's thread: whether each item is a new article (stored now)."""
        rows = [ItemAdapter(item).asdict() for item in items]
        stored = self.write_now(rows)
        seen: set[str] = set()
        new = []
        for row in rows:  # a URL twice in the batch: the first copy is the new one
            new.append(row["url"] in stored and row["url"] not in seen)
            seen.add(row["url"])
        return new

    async def _write_batched(self, item: Any) -> ArticleRecord:
        adapter = ItemAdapter(item)
        try:
            new = await self.batches.submit(item)  # type: ignore[union-attr]
        finally:
            self.thread_stats.apply()  # type: ignore[union-attr]
        if not new:
            raise AlreadyStored(adapter["url"])
        return article_record(adapter)
