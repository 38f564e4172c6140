"""The article cleaner: extract the article from a page (or clean an imported record) and refuse what is not one.

Each page goes through :func:`crawler.extract.extract_article` (title, body,
date, authors, tags, attribution, related headlines, boilerplate stripped).
Pages that are not Arabic news articles are dropped with a reason, counted as
``clean/dropped/<reason>``. The per-site learned template (blocks repeated
across a site's pages) is loaded at open and saved at close.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from sqlalchemy import select

from crawler.extract import Extraction, SiteTemplate, extract_article
from crawler.extract.boilerplate import compiled_extra
from crawler.extract.paragraphs import clean_lines
from crawler.items import NotArticle
from crawler.storage.bulk import upsert
from crawler.storage.database import Database
from crawler.storage.models import SiteTemplateRow, utcnow
from crawler.text import arabic_ratio, clean_text
from crawler.urls import InvalidURL, canonical_url, url_host
from crawler import stats as st

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.stats import StatsLike

logger = logging.getLogger(__name__)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the breaks clean_text keeps as paragraph breaks


class ArticleCleaner:
    """Turn fetched pages into clean articles.

    Settings:
        CLEAN_ENABLED: run this pipeline (default True).
        CLEAN_MIN_CHARS: shortest body kept as an article (default 250).
        CLEAN_MIN_ARABIC_RATIO: least share of Arabic letters in the body.
        CLEAN_LEARN_TEMPLATE: learn and apply per-site repeated blocks.
        CLEAN_PAGE_TIME_BUDGET: seconds one page may take to extract (default 5); a page over it
            is dropped as ``too_slow`` (checked between extraction steps; 0 = no limit).
    """

    def __init__(
        self,
        stats: StatsLike,
        db: Database | None = None,
        *,
        min_chars: int = 250,
        min_arabic_ratio: float = 0.5,
        learn_template: bool = True,
        patterns_by_site: dict[str, tuple[str, ...]] | None = None,
        strip_params: list[str] | None = None,
        page_time_budget: float | None = 5.0,
    ) -> None:
        self.stats = stats
        self.db = db
        self.min_chars = min_chars
        self.min_arabic_ratio = min_arabic_ratio
        self.learn_template = learn_template
        self.patterns_by_site = patterns_by_site or {}
        self.strip_params = strip_params
        self.page_time_budget = page_time_budget or None
        self.templates: dict[str, SiteTemplate] = {}
        self._snapshots: dict[str, SiteTemplate] = {}  # site -> what extraction_call hands a worker

    @classmethod
    def build(cls, settings: BaseSettings, stats: StatsLike, db: Database | None,
              patterns_by_site: dict[str, tuple[str, ...]] | None = None) -> Self:
        """Build from settings, outside a Scrapy crawl (``import``)."""
        if not settings.getbool("CLEAN_ENABLED"):
            raise NotConfigured("CLEAN_ENABLED is off")
        return cls(
            stats,
            db,
            min_chars=settings.getint("CLEAN_MIN_CHARS"),
            min_arabic_ratio=settings.getfloat("CLEAN_MIN_ARABIC_RATIO"),
            learn_template=settings.getbool("CLEAN_LEARN_TEMPLATE"),
            patterns_by_site=patterns_by_site,
            strip_params=settings.getlist("DISCOVERY_STRIP_PARAMS"),
            page_time_budget=settings.getfloat("CLEAN_PAGE_TIME_BUDGET"),
        )

    # -- template persistence -----------------------------------------------------

    def open(self) -> None:
        if not (self.learn_template and self.db):
            return
        with self.db.session() as session:
            for row in session.scalars(select(SiteTemplateRow)):
                self.templates[row.site] = SiteTemplate.from_dict(row.data)

    def close(self) -> None:
        if not (self.learn_template and self.db and self.templates):
            return
        rows = [{"site": site, "data": t.to_dict(), "updated_at": utcnow()} for site, t in self.templates.items()]
        with self.db.begin() as session:
            upsert(session, SiteTemplateRow, rows, ["site"], ["data", "updated_at"])

    # -- items ----------------------------------------------------------------------

    def _drop(self, reason: str, adapter: ItemAdapter) -> NotArticle:
        self.stats.inc_value(st.clean_dropped(reason))
        self.stats.inc_value(st.source_key(adapter["site"], st.SourceCount.DROPPED))
        return NotArticle(reason, adapter["url"], log_level="INFO")

    def process(self, item: Any) -> Any:
        """Clean *item* in place and return it.

        Raises:
            NotArticle: not an article; its ``reason`` is counted as ``clean/dropped/<reason>``.
        """
        adapter = ItemAdapter(item)
        page = bool(adapter.get("raw_html"))
        try:
            if page:
                self._clean_page(adapter)
            else:
                self._clean_record(adapter)
        except InvalidURL:
            raise self._drop("invalid_url", adapter) from None
        return self._check(item, adapter, page)

    def process_extracted(self, item: Any, result: Extraction) -> Any:
        """:meth:`process` of a page whose :func:`extract_article` *result* was computed elsewhere
        (a worker process, called with :meth:`extraction_call`)."""
        adapter = ItemAdapter(item)
        try:
            self._clean_page(adapter, result)
        except InvalidURL:
            raise self._drop("invalid_url", adapter) from None
        return self._check(item, adapter, page=True)

    def extraction_call(self, item: Any) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """The arguments of :func:`extract_article` for the page of *item* (picklable), or None for a record."""
        adapter = ItemAdapter(item)
        if not adapter.get("raw_html"):
            return None
        site = adapter["site"]
        snapshot = None
        if self.learn_template:
            template = self.templates.setdefault(site, SiteTemplate())
            snapshot = self._snapshots.get(site)
            # Taken again after every 5% more pages (at least every page below 20): the
            # blocks judged template change slowly, and a snapshot costs a pass over the counts.
            if snapshot is None or template.pages - snapshot.pages >= max(1, template.pages // 20):
                snapshot = self._snapshots[site] = template.snapshot()
        return (adapter["raw_html"], adapter["url"]), {
            "fetched_at": adapter["fetched_at"], "encoding": adapter.get("encoding"),
            "extra_patterns": tuple(self.patterns_by_site.get(site, ())), "template": snapshot,
            "time_budget": self.page_time_budget,
        }

    def _check(self, item: Any, adapter: ItemAdapter, page: bool) -> Any:
        text = adapter["text"]
        if not adapter["title"]:
            raise self._drop("no_title", adapter)
        # A fetched page must look like an article; an imported record already is one:
        # a two-line brief is kept (the contract), only an empty one is dropped.
        if not text.strip():
            raise self._drop("empty", adapter)
        if page and len(text) < self.min_chars:
            raise self._drop("too_short", adapter)
        if arabic_ratio(text) < self.min_arabic_ratio:
            raise self._drop("not_arabic", adapter)
        self.stats.inc_value(st.CLEAN_ARTICLES)
        return item

    def _clean_page(self, adapter: ItemAdapter, result: Extraction | None = None) -> None:
        site = adapter["site"]
        template = self.templates.setdefault(site, SiteTemplate()) if self.learn_template else None
        if result is None:
            result = extract_article(
                adapter["raw_html"],
                adapter["url"],
                fetched_at=adapter["fetched_at"],
                encoding=adapter.get("encoding"),
                extra_patterns=self.patterns_by_site.get(site, ()),
                template=template,
                time_budget=self.page_time_budget,
            )
        if template is not None and result.block_hashes:
            template.observe(result.block_hashes)
        if not result.is_article:
            raise self._drop(result.reason or "not_article", adapter)
        # One article, one URL: prefer the page's own rel=canonical on the same site.
        if result.canonical_url and url_host(result.canonical_url) == url_host(adapter["url"]):
            adapter["url"] = result.canonical_url
        adapter["url"] = canonical_url(adapter["url"], *([self.strip_params] if self.strip_params is not None else []))
        adapter["title"] = result.title or clean_text(adapter.get("hint_title") or "")
        adapter["text"] = result.text
        adapter["published_at"] = result.published_at or adapter.get("hint_published_at")
        adapter["date_source"] = result.date_source or ("hint" if adapter.get("hint_published_at") else None)
        adapter["authors"] = result.authors
        adapter["tags"] = result.tags
        adapter["attribution"] = result.attribution
        adapter["related_headlines"] = result.related_headlines
        adapter["lang"] = result.lang
        adapter["boilerplate_removed"] = result.boilerplate_removed
        self.stats.inc_value(st.CLEAN_BOILERPLATE_REMOVED, result.boilerplate_removed)

    def _clean_record(self, adapter: ItemAdapter) -> None:
        """An imported record: its text through the page body's line rules (:func:`clean_lines`).

        The source's extra patterns apply as on its pages; a source line fills the
        attribution, a tag line the tags, a by-line the authors, unless the record
        brings its own; a "read also" / related / comments label ends the body.
        """
        title = clean_text(adapter.get("title") or "").replace("\n", " ")
        # clean_lines cleans each line as clean_text would the whole text (no need to do both).
        text = adapter.get("text") or ""
        lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)  # the same lines
        res = clean_lines(lines, compiled_extra(self.patterns_by_site.get(adapter["site"], ())), title=title)
        adapter["url"] = canonical_url(adapter["url"], *([self.strip_params] if self.strip_params is not None else []))
        adapter["title"] = title
        # A record whose every line was judged by its shape alone (a one-line brief, short lines)
        # keeps them: import keeps every record with a non-empty text.
        paragraphs, removed = (res.paragraphs, res.removed) if res.paragraphs else (res.held, res.removed - len(res.held))
        adapter["text"] = "\n".join(paragraphs)
        adapter["attribution"] = adapter.get("attribution") or res.attribution
        adapter["tags"] = [t.strip() for t in adapter.get("tags") or res.tags]
        adapter["authors"] = list(adapter.get("authors") or dict.fromkeys(res.authors))
        adapter["boilerplate_removed"] = removed
        self.stats.inc_value(st.CLEAN_BOILERPLATE_REMOVED, removed)
