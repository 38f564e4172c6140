"""StorePipeline: the Scrapy adapter of :class:`crawler.storage.writer.ArticleWriter`.

Articles are written in batches, idempotently (keyed by canonical URL). If the
database stays away, the crawl is closed with reason ``database_unavailable``.
Each new article's contract record (:class:`crawler.items.ArticleRecord`) is
the item passed on, so it is what feed exports (``-o FILE``) write; an article
stored already (or twice in one run) is dropped (``AlreadyStored``, INFO).
Settings: ``STORAGE_*`` (``crawler/settings.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.utils.defer import deferred_from_coro

from crawler.scheduling.runs import RunRecorder
from crawler.scheduling.services import CrawlServices
from crawler.storage.writer import AlreadyStored, ArticleWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.items import ArticleRecord


class StorePipeline(ArticleWriter):
    """Batched, idempotent writes of crawled articles."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        recorder = crawler.get_extension(RunRecorder)  # None when RUNS_ENABLED is off
        run_id = recorder.start_run() if recorder is not None else None
        pipeline = cls.build(crawler.settings, crawler.stats, CrawlServices.of(crawler).database, run_id)

        def close_crawl(reason: str) -> None:
            if crawler.engine is not None:
                deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

        pipeline.on_unavailable = close_crawl
        return pipeline

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        self.close()

    def process_item(self, item: Any) -> ArticleRecord:
        record = self.store(item)
        if record is None:
            raise AlreadyStored(ItemAdapter(item)["url"])
        return record
