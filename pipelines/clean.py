"""CleanPipeline: the Scrapy adapter of :class:`crawler.extract.cleaner.ArticleCleaner`.

Each page is extracted (title, body, date, authors, tags, attribution, related
headlines, boilerplate stripped); pages that are not Arabic news articles are
dropped with a reason. Settings: ``CLEAN_*`` (``crawler/settings.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.extract.cleaner import ArticleCleaner
from crawler.scheduling.services import CrawlServices

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CleanPipeline(ArticleCleaner):
    """Turn fetched pages into clean articles."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        db = CrawlServices.of(crawler).database if crawler.settings.getbool("CLEAN_LEARN_TEMPLATE") else None
        sources = getattr(crawler.spider, "sources", {}) if crawler.spider else {}
        patterns = {name: s.boilerplate_patterns for name, s in sources.items()}
        return cls.build(crawler.settings, crawler.stats, db, patterns)

    def open_spider(self) -> None:
        self.open()

    def close_spider(self) -> None:
        self.close()

    def process_item(self, item: Any) -> Any:
        return self.process(item)
