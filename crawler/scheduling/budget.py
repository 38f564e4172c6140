"""Per-source request budget, charged when a request is about to be downloaded.

The spider may schedule more than the budget (up to a bounded queue); what
counts is what is fetched. Requests that an earlier middleware drops (robots.txt,
an already-stored article skipped by the incremental middleware) cost
nothing, so a sitemap listing thousands of stored articles does not use up
the budget before the new ones are reached.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from crawler import meta as m
from crawler.meta import Kind
from crawler import stats as st

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class SourceBudgetMiddleware:
    """Downloader middleware: at most N fetches per source and run.

    Settings:
        DISCOVERY_MAX_REQUESTS_PER_SOURCE: the budget (default 2000); a
            source's ``max_requests`` (``request.meta[BUDGET]``) overrides it.

    Robots.txt requests are not charged. A request over budget is dropped and
    counted as ``discovery/budget_exhausted/<source>``.
    """

    def __init__(self, crawler: Crawler, budget: int) -> None:
        self.crawler = crawler
        self.budget = budget
        self.spent: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceBudgetMiddleware:
        return cls(crawler, crawler.settings.getint("DISCOVERY_MAX_REQUESTS_PER_SOURCE"))

    def process_request(self, request: Request) -> None:
        source = request.meta.get(m.SOURCE)
        if source is None or request.meta.get(m.KIND) == Kind.ROBOTS:
            return None
        if self.spent[source] >= (request.meta.get(m.BUDGET) or self.budget):
            self.crawler.stats.inc_value(st.discovery_budget_exhausted(source))
            raise IgnoreRequest(f"{source}: request budget spent: {request.url}")
        self.spent[source] += 1
        return None
