"""A bounded request dupefilter: an LRU of fingerprints instead of Scrapy's ever-growing set."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from scrapy.dupefilters import BaseDupeFilter

from crawler import stats as st

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy import Spider
    from scrapy.http import Request
    from scrapy.utils.request import RequestFingerprinterProtocol

    from crawler.stats import StatsLike

logger = logging.getLogger(__name__)


class BoundedDupeFilter(BaseDupeFilter):
    """Request dupefilter remembering at most ``INCREMENTAL_DUPEFILTER_MAX`` fingerprints (LRU).

    The spider already avoids scheduling a URL twice per source and run, and
    the database skips what is stored, so a bounded window is enough to catch
    repeats without growing with every page seen.
    """

    def __init__(self, max_size: int = 100_000, fingerprinter: RequestFingerprinterProtocol | None = None,
                 stats: StatsLike | None = None,
                 debug: bool = False) -> None:
        from scrapy.utils.request import RequestFingerprinter

        self.max_size = max(1, max_size)
        self.fingerprinter = fingerprinter or RequestFingerprinter()
        self.stats = stats
        self.debug = debug
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoundedDupeFilter:
        return cls(crawler.settings.getint("INCREMENTAL_DUPEFILTER_MAX"), crawler.request_fingerprinter,
                   crawler.stats, crawler.settings.getbool("DUPEFILTER_DEBUG"))

    def __len__(self) -> int:
        return len(self._seen)

    def request_seen(self, request: Request) -> bool:
        fp = self.fingerprinter.fingerprint(request)
        if fp in self._seen:
            self._seen.move_to_end(fp)
            return True
        self._seen[fp] = None
        if len(self._seen) > self.max_size:
            self._seen.popitem(last=False)
        return False

    def log(self, request: Request, spider: Spider) -> None:
        if self.debug:
            logger.debug("Filtered duplicate request: %s", request)
        if self.stats is not None:
            self.stats.inc_value(st.DUPEFILTER_FILTERED)
