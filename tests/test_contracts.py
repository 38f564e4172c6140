"""What components tell each other is explicit: NotArticle.reason, named meta keys and stats, shared services."""

from __future__ import annotations

import ast
import pickle
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler import meta as m
from crawler import settings as project_settings_module
from crawler import stats as st
from crawler.commands.runner import CrawlSummary
from crawler.items import ArticleItem, NotArticle
from crawler.meta import Kind, StateKind
from crawler.scheduling.incremental import ConditionalRequestMiddleware, SkipStoredMiddleware, UrlStateWriter
from crawler.scheduling.runs import RunRecorder, per_source_counts
from crawler.scheduling.services import CrawlServices
from crawler.stats import CounterStats, RunTotals, SourceCounts, summarise
from crawler.storage.database import Database
from crawler.storage.models import CrawlRun, UrlState
from pipelines.clean import CleanPipeline
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline

ROOT = Path(__file__).resolve().parents[1]


def _item(url: str = "https://farm.example/x", html: bytes = b"<html><body><p>short</p></body></html>") -> ArticleItem:
    return ArticleItem(url=url, site="farm", fetched_at=datetime(2026, 1, 1, tzinfo=UTC), raw_html=html)


def _response(url: str) -> HtmlResponse:
    request = Request(url, meta={m.SOURCE: "farm", m.KIND: Kind.PAGE, m.HINT: {}})
    return HtmlResponse(url, body=b"<html><body><p>x</p></body></html>", encoding="utf-8", request=request)


# -- NotArticle ------------------------------------------------------------------------------
def test_not_article_carries_its_reason() -> None:
    exc = NotArticle("too_short", "https://farm.example/x")
    assert isinstance(exc, DropItem)
    assert (exc.reason, exc.url, exc.log_level) == ("too_short", "https://farm.example/x", "INFO")
    assert str(exc) == "not an article (too_short): https://farm.example/x"  # the log line is unchanged
    again = pickle.loads(pickle.dumps(exc))
    assert (type(again), again.reason, again.url, str(again)) == (NotArticle, "too_short", exc.url, str(exc))


def test_the_cleaner_raises_not_article_with_the_counted_reason(settings: Settings) -> None:
    stats = CounterStats()
    settings.set("CLEAN_LEARN_TEMPLATE", False)
    cleaner = CleanPipeline.build(settings, stats, None)
    with pytest.raises(NotArticle) as caught:
        cleaner.process_item(_item())
    assert caught.value.log_level == "INFO"
    assert stats.get_value(st.clean_dropped(caught.value.reason)) == 1
    assert stats.get_value(st.source_key("farm", st.SourceCount.DROPPED)) == 1


def test_incremental_and_the_run_recorder_record_the_reason(sqlite_db: Database) -> None:
    crawler: Any = type("FakeCrawler", (), {"stats": CounterStats()})()
    writer = UrlStateWriter(sqlite_db, batch_size=100)
    mw = SkipStoredMiddleware(crawler, sqlite_db, writer, recheck_hours=0)
    recorder = RunRecorder(crawler)
    cases = [("https://farm.example/a", NotArticle("too_short", "https://farm.example/a")),
             ("https://farm.example/s", NotArticle("listing_page", "https://farm.example/s")),
             # a plain DropItem is never parsed for a reason, whatever its message says
             ("https://farm.example/p", DropItem("not an article (no_title): https://farm.example/p"))]
    for url, exc in cases:
        mw.item_dropped(_item(url), response=_response(url), exception=exc)
        recorder.item_dropped(_item(url), exception=exc)
    writer.flush()
    with sqlite_db.session() as s:
        rows = {r.url: (r.kind, r.reason) for r in s.scalars(select(UrlState))}
    assert rows == {"https://farm.example/a": (StateKind.NOT_ARTICLE, "too_short"),
                    "https://farm.example/s": (StateKind.LISTING, "listing_page"),
                    "https://farm.example/p": (StateKind.NOT_ARTICLE, "dropped")}
    assert recorder.extra["farm"] == Counter(dropped_too_short=1, dropped_listing_page=1, dropped_dropped=1)
    assert crawler.stats.get_value(st.incremental_remembered(StateKind.NOT_ARTICLE)) == 2


# -- the one summary of a run's stats --------------------------------------------------------
@pytest.mark.parametrize(("stats", "sources", "expected"), [
    ({}, None, RunTotals()),
    ({"finish_reason": "finished", "response_received_count": 12, "store/inserted": 5, "store/already_stored": 1},
     None, RunTotals(finish_reason="finished", pages_fetched=12, articles_stored=5, already_stored=1)),
    # duplicates merged: exact + near-duplicate copies, nothing else
    ({"dedup/exact": 2, "dedup/near_duplicate": 3, "dedup/unique": 9, "dedup/headlines_merged": 4},
     None, RunTotals(duplicates_merged=5)),
    ({"dedup/near_duplicate": 1}, None, RunTotals(duplicates_merged=1)),
    # drops and skipped links by reason; deeper keys are not reasons
    ({"clean/dropped/too_short": 2, "clean/dropped/not_arabic": 1, "clean/dropped/a/b": 9,
      "discovery/skipped/not_html": 4, "discovery/skipped_total": 7},
     None, RunTotals(dropped=Counter(too_short=2, not_arabic=1), skipped=Counter(not_html=4))),
    ({"robotstxt/forbidden": 2, "incremental/skipped_stored": 7, "incremental/not_modified": 3,
      "clean/boilerplate_removed": 11},
     None, RunTotals(robots_forbidden=2, skipped_stored=7, not_modified=3, boilerplate_removed=11)),
    # per source: the named counts of source/<name>/<count>; sources=None lists the sources found
    ({"source/a/pages_fetched": 3, "source/a/errors": 1, "source/a/errors/TimeoutError": 1,
      "source/a/http_errors": 5, "source/b/not_modified": 2},
     None, RunTotals(per_source={"a": SourceCounts(pages_fetched=3, errors=1), "b": SourceCounts(not_modified=2)})),
    # named sources: each listed, in that order, with zeros when it has no stats; others left out
    ({"source/a/articles_stored": 2, "source/unknown/not_modified": 1},
     ["c", "a"], RunTotals(per_source={"c": SourceCounts(), "a": SourceCounts(articles_stored=2)})),
    # the run record's JSON stats may hold None
    ({"store/inserted": None, "dedup/exact": None}, None, RunTotals()),
])
def test_summarise(stats: dict[str, Any], sources: list[str] | None, expected: RunTotals) -> None:
    totals = summarise(stats, sources)
    assert totals == expected
    assert list(totals.per_source) == list(expected.per_source)


@pytest.mark.parametrize(("reason", "ok"), [("finished", True), ("shutdown", True), ("closespider_timeout", True),
                                             ("database_unavailable", False), ("unknown", False)])
def test_ok_reasons_are_one_set(reason: str, ok: bool) -> None:
    assert summarise({"finish_reason": reason}).ok is ok
    assert CrawlSummary.from_stats({"finish_reason": reason}, [], 1.0).ok is ok


STATS = {
    "finish_reason": "finished", "response_received_count": 42, "store/inserted": 9, "store/already_stored": 2,
    "dedup/exact": 3, "dedup/near_duplicate": 4, "dedup/unique": 2,
    "clean/dropped/too_short": 5, "clean/dropped/listing_page": 2, "clean/dropped/x/y": 7,
    "discovery/skipped/not_html": 6, "discovery/skipped/tag": 1, "robotstxt/forbidden": 1,
    "incremental/skipped_stored": 8, "incremental/not_modified": 3,
    "source/alpha/pages_fetched": 30, "source/alpha/articles_stored": 6, "source/alpha/dropped": 5,
    "source/alpha/errors": 1, "source/alpha/errors/TimeoutError": 1,
    "source/beta/pages_fetched": 0, "source/beta/errors": 2, "source/unknown/not_modified": 1,
    "shared/worker_id": "host:1:abc", "shared/dequeued": 17,
}


def test_crawl_summary_text_is_unchanged() -> None:
    summary = CrawlSummary.from_stats(STATS, ["alpha", "beta", "gamma"], 12.34)
    assert summary.render() == "\n".join([
        "Crawl finished in 12.3 s",
        "  pages fetched:      42",
        "  articles stored:    9 (already stored: 2)",
        "  duplicates merged:  7",
        "  pages dropped:      7 (listing_page 2, too_short 5)",
        "  links skipped:      7 (not_html 6, tag 1)",
        "  robots.txt refused: 1",
        "  already known:      8 not fetched, 3 unchanged (304)",
        "  shared crawl:       worker host:1:abc took 17 requests from the shared frontier",
        "  per source:          fetched  stored  dropped  errors",
        "    alpha                     30       6        5       1",
        "    beta                       0       0        0       2  DEAD: nothing fetched",
        "    gamma                      0       0        0       0",
    ])


def test_run_record_counts_read_the_same_summary() -> None:
    counts = per_source_counts(STATS, {"alpha": Counter(articles_seen=2), "zeta": Counter(no_date=1)})
    assert counts["alpha"] == {"pages_fetched": 30, "articles_stored": 6, "dropped": 5, "errors": 1,
                               "start_errors": 0, "skipped_stored": 0, "skipped_not_article": 0,
                               "not_modified": 0, "articles_seen": 2, "no_date": 0, "no_title": 0}
    assert counts["unknown"]["not_modified"] == 1 and counts["zeta"]["no_date"] == 1
    assert sum(c["articles_stored"] for c in counts.values()) <= summarise(STATS).articles_stored


def test_stat_names() -> None:
    assert st.clean_dropped("too_short") == "clean/dropped/too_short"
    assert st.source_key("bbc", st.SourceCount.PAGES_FETCHED) == "source/bbc/pages_fetched"
    assert st.source_error("bbc", "TimeoutError") == "source/bbc/errors/TimeoutError"
    assert st.discovery_skipped("tag") == "discovery/skipped/tag"
    assert st.incremental_refetch("lastmod") == "incremental/refetch/lastmod"
    assert (st.DEDUP_EXACT, st.DEDUP_NEAR_DUPLICATE, st.STORE_INSERTED) == (
        "dedup/exact", "dedup/near_duplicate", "store/inserted")


# -- shared services, no attributes on Scrapy's Crawler --------------------------------------
def _assigned_crawler_attributes(path: Path) -> list[str]:
    """``crawler.x = ...`` / ``self.crawler.x = ...`` / ``setattr(crawler, ...)`` in one module."""

    def is_crawler(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id == "crawler") or (
            isinstance(node, ast.Attribute) and node.attr == "crawler")

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            if node.args and is_crawler(node.args[0]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: setattr")
        for target in targets:
            if isinstance(target, ast.Attribute) and is_crawler(target.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{target.attr}")
    return found


def test_no_module_sets_attributes_on_the_crawler() -> None:
    files = [p for d in ("crawler", "pipelines", "spiders") for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 20
    assert [hit for path in files for hit in _assigned_crawler_attributes(path)] == []


def _project_crawler(db_url: str) -> Any:
    settings = {name: getattr(project_settings_module, name) for name in dir(project_settings_module)
                if name.isupper() and name not in ("TWISTED_REACTOR", "ASYNCIO_EVENT_LOOP")}
    settings.update(DATABASE_URL=db_url, LOCK_ENABLED=False, RUNS_UPDATE_SECONDS=0)
    return get_crawler(settings_dict=settings)


def test_components_share_the_services_and_the_run_id(tmp_path: Path) -> None:
    crawler = _project_crawler(f"sqlite:///{tmp_path / 'n.db'}")
    before = set(vars(crawler))
    services = CrawlServices.of(crawler)
    recorder = crawler.get_extension(RunRecorder)
    assert recorder is not None and recorder.run_id is None  # the row is inserted when first needed
    skip = SkipStoredMiddleware.from_crawler(crawler)
    conditional = ConditionalRequestMiddleware.from_crawler(crawler)
    clean = CleanPipeline.from_crawler(crawler)
    dedup = DedupPipeline.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    try:
        assert skip.db is conditional.db is clean.db is dedup.db is store.db is services.database
        assert skip.writer is conditional.writer is services.url_state
        assert store.run_id is not None and store.run_id == recorder.run_id == recorder.start_run()
        with services.database.session() as s:
            assert s.scalars(select(CrawlRun.id)).all() == [store.run_id]
        assert set(vars(crawler)) == before
        assert not [name for name in vars(crawler) if name.startswith("news_")]
        assert "CRAWL_RUN_ID" not in crawler.settings
    finally:
        services.close()


def test_services_must_be_enabled() -> None:
    crawler = get_crawler(settings_dict={"EXTENSIONS": {}})
    with pytest.raises(RuntimeError, match="CrawlServices is not enabled"):
        CrawlServices.of(crawler)


# -- request kinds and meta keys --------------------------------------------------------------
def test_request_kinds_and_meta_keys() -> None:
    assert Kind.CONDITIONAL == {"feed", "sitemap", "start", "listing"}
    assert StateKind.KNOWN == {"article", "not_article"} and StateKind.LISTING == Kind.LISTING
    keys = [v for k, v in vars(m).items() if k.isupper()]
    assert len(keys) == len(set(keys))  # no two names for one key
    assert (m.SOURCE, m.KIND, m.DEPTH, m.PAGE, m.HINT) == ("source", "kind", "news_depth", "news_page", "hint")


def test_no_bare_meta_keys_outside_the_meta_module() -> None:
    """``request.meta["..."]`` / ``.meta.get("...")`` with a literal key appear nowhere but crawler/meta.py."""
    hits = []
    for d in ("crawler", "pipelines", "spiders"):
        for path in sorted((ROOT / d).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                key = None
                if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                        and node.value.attr == "meta":
                    key = node.slice
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr == "get" and isinstance(node.func.value, ast.Attribute) \
                        and node.func.value.attr == "meta" and node.args:
                    key = node.args[0]
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno}: {key.value!r}")
    # crawler/extract/metadata.py reads <meta> tags of a page (pm.meta), not request meta
    assert [h for h in hits if not h.startswith("crawler/extract/metadata.py")] == []
