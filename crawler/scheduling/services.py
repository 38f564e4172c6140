"""What the components of one crawl share -- the database, the ``url_state`` writer, the Redis client -- owned by one extension.

:class:`CrawlServices` is a Scrapy extension (``EXTENSIONS`` in
``crawler/settings.py``). Scrapy builds the extensions before the engine, so
every downloader middleware, pipeline, scheduler and dupefilter can reach it
from its ``from_crawler`` through Scrapy's own look-up::

    db = CrawlServices.of(crawler).database      # crawler.get_extension(CrawlServices)

Nothing is stored on the ``Crawler`` object itself, and each service is opened
on first use, so a crawl that never needs Redis never connects to it. The
services are closed when the engine stops (after every ``spider_closed``
handler, such as the run recorder's last write); ``python -m crawler crawl``
also closes them once the crawl returns.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.storage.database import DEFAULT_URL, Database

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from crawler.scheduling.incremental import UrlStateWriter

logger = logging.getLogger(__name__)


class CrawlServices:
    """Scrapy extension owning the services one crawl shares.

    Settings:
        DATABASE_URL: the database (``scrapy crawl news -s DATABASE_URL=...``,
            as the contract names it), else ``STORAGE_URL``.
        INCREMENTAL_STATE_BATCH: ``url_state`` rows per write.
        REDIS_URL, REDIS_CONNECT_TIMEOUT: the shared crawl's Redis (``crawl --redis``).
    """

    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings
        self._database: Database | None = None
        self._url_state: UrlStateWriter | None = None
        self._redis: Redis | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlServices:
        services = cls(crawler.settings)
        crawler.signals.connect(services.engine_stopped, signal=signals.engine_stopped)
        return services

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlServices:
        """The crawler's instance (``crawler.get_extension``).

        Raises:
            RuntimeError: the extension is not enabled in ``EXTENSIONS``.
        """
        services = crawler.get_extension(cls)
        if services is None:
            raise RuntimeError(f"{cls.__module__}.{cls.__qualname__} is not enabled in the EXTENSIONS setting")
        return services

    @property
    def database_url(self) -> str:
        return self.settings.get("DATABASE_URL") or self.settings.get("STORAGE_URL") or DEFAULT_URL

    @property
    def database(self) -> Database:
        """The crawl's one :class:`Database` (one engine per process), opened and migrated on first use.

        Raises:
            crawler.storage.database.StorageError: the database is unreachable or unusable.
        """
        if self._database is None:
            self._database = Database.open(self.database_url)
        return self._database

    @property
    def url_state(self) -> UrlStateWriter:
        """The buffered ``url_state`` writer both incremental middlewares share."""
        if self._url_state is None:
            from crawler.scheduling.incremental import UrlStateWriter

            self._url_state = UrlStateWriter(self.database, self.settings.getint("INCREMENTAL_STATE_BATCH"))
        return self._url_state

    @property
    def redis(self) -> Redis:
        """The shared crawl's Redis client (the scheduler and the dupefilter share it).

        Raises:
            crawler.scheduling.shared.SharedCrawlError: ``REDIS_URL`` is not set.
        """
        if self._redis is None:
            from crawler.scheduling.shared import SharedCrawlError, redis_client

            url = self.settings.get("REDIS_URL")
            if not url:
                raise SharedCrawlError("REDIS_URL is not set: a shared crawl needs `crawl --redis URL`")
            self._redis = redis_client(url, self.settings.getfloat("REDIS_CONNECT_TIMEOUT"))
        return self._redis

    def close(self) -> None:
        """Release the connections (the database's pool, the Redis client); safe to call twice."""
        if self._database is not None:
            self._database.close()
        if self._redis is not None:
            try:
                self._redis.close()
            except Exception as exc:  # noqa: BLE001 - Redis gone: nothing left to release
                logger.debug("closing the Redis client: %s", exc)

    def engine_stopped(self, **_: Any) -> None:
        self.close()
