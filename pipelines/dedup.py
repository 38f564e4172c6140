"""DedupPipeline: the Scrapy adapter of :class:`crawler.dedup.clusterer.Deduplicator`.

Every article copy gets its cluster (``cluster_id``, ``content_hash``,
``signature`` and, when merged, ``dup_of_url``/``dup_method``/``dup_score``);
copies are never dropped. Settings: ``DEDUP_*`` (``crawler/settings.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.dedup.clusterer import Deduplicator
from crawler.scheduling.services import CrawlServices

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class DedupPipeline(Deduplicator):
    """Near-duplicate merging of crawled articles and their headlines."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        if not crawler.settings.getbool("DEDUP_ENABLED"):
            raise NotConfigured("DEDUP_ENABLED is off")
        return cls.build(crawler.settings, crawler.stats, CrawlServices.of(crawler).database)

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        self.close()

    def process_item(self, item: Any) -> Any:
        return self.process_batch([item])[0]
