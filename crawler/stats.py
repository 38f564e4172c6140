"""Stat names, the one summary of a run's stats, and a stats collector for pipelines run outside a crawl.

:class:`StatsLike` is what components built outside a crawl use of their
stats; both :class:`CounterStats` and Scrapy's ``StatsCollector`` satisfy it.

Every component counts into the crawler's stats (Scrapy's slash-style names)
through the names defined here; every reader -- the summary printed by
``crawl``, the run record (``crawl_runs``), ``import``, the demo -- goes through
:func:`summarise`, so a figure such as "duplicates merged" is computed once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

# -- Scrapy's own ---------------------------------------------------------------------------
RESPONSES: Final = "response_received_count"  # pages fetched (any status)
FINISH_REASON: Final = "finish_reason"  # set when the spider closes
ROBOTS_FORBIDDEN: Final = "robotstxt/forbidden"  # requests refused by robots.txt
DUPEFILTER_FILTERED: Final = "dupefilter/filtered"  # requests already seen in this run
SCHEDULER_ENQUEUED: Final = "scheduler/enqueued"  # requests scheduled (the shared scheduler adds .../redis)
SCHEDULER_DEQUEUED: Final = "scheduler/dequeued"  # requests taken to download (the shared scheduler adds .../redis)

# -- encoding (crawler.discovery.encoding) -------------------------------------------------
ENCODING_FORCED: Final = "encoding/forced"  # pages decoded with the codec their source forces
ENCODING_FIXED: Final = "encoding/fixed"  # mojibake pages re-decoded with the right codec
ENCODING_UNFIXABLE: Final = "encoding/unfixable"  # mojibake pages no codec fixed

# -- clean (crawler.extract.cleaner) --------------------------------------------------------
CLEAN_ARTICLES: Final = "clean/articles"  # pages and records kept as articles
CLEAN_BOILERPLATE_REMOVED: Final = "clean/boilerplate_removed"  # boilerplate blocks and lines stripped
CLEAN_DROPPED: Final = "clean/dropped/"  # + reason: pages that are not articles (NotArticle.reason)

# -- dedup (crawler.dedup) ------------------------------------------------------------------
DEDUP_UNIQUE: Final = "dedup/unique"  # copies that start a cluster
DEDUP_EXACT: Final = "dedup/exact"  # copies merged by their content hash
DEDUP_NEAR_DUPLICATE: Final = "dedup/near_duplicate"  # copies merged by MinHash + verified Jaccard
DEDUP_SAME_URL: Final = "dedup/same_url"  # a copy already clustered under its URL
DEDUP_CANDIDATES: Final = "dedup/candidates"  # LSH candidates examined
DEDUP_DANGLING: Final = "dedup/dangling"  # candidates whose stored row is gone
DEDUP_REJECTED: Final = "dedup/rejected"  # candidates below the verified threshold
DEDUP_HEADLINES_SEEN: Final = "dedup/headlines_seen"  # headline occurrences (titles and related lists)
DEDUP_HEADLINES_MERGED: Final = "dedup/headlines_merged"  # occurrences that joined an existing headline
DEDUP_HEADLINES_EXACT: Final = "dedup/headlines_exact"  # ... by their exact key
DEDUP_HEADLINES_NGRAM: Final = "dedup/headlines_ngram"  # ... by character n-gram MinHash
DEDUP_LOCKED: Final = "dedup/locked_batches"  # batches that locked their band keys (PostgreSQL)
DEDUP_LOCKED_INDEX: Final = "dedup/locked_index"  # ... the whole index instead (more than DEDUP_LOCK_MAX_KEYS)
DEDUP_LOCK_WAIT_MS: Final = "dedup/lock_wait_ms"  # time spent waiting for those locks, in milliseconds

# -- store (crawler.storage.writer) ---------------------------------------------------------
STORE_INSERTED: Final = "store/inserted"  # articles written
STORE_ALREADY_STORED: Final = "store/already_stored"  # articles whose URL was stored already
STORE_RETRIES: Final = "store/retries"  # write batches retried after a database error
STORE_UNAVAILABLE: Final = "store/unavailable"  # the database stayed away: the crawl is closed

# -- incremental (crawler.scheduling.incremental) -------------------------------------------
INCREMENTAL_SKIPPED_STORED: Final = "incremental/skipped_stored"  # known pages not fetched again
INCREMENTAL_SKIPPED_LASTMOD: Final = "incremental/skipped_lastmod"  # ... whose sitemap <lastmod> is not newer
INCREMENTAL_NOT_MODIFIED: Final = "incremental/not_modified"  # feeds, sitemaps, start pages answered 304
INCREMENTAL_REFETCH: Final = "incremental/refetch/"  # + verdict ("lastmod", "recheck"): known pages fetched again
INCREMENTAL_REMEMBERED: Final = "incremental/remembered/"  # + url_state kind: dropped pages remembered

# -- discovery (spiders/news.py, crawler.scheduling.budget) ---------------------------------
DISCOVERY_SKIPPED: Final = "discovery/skipped/"  # + reason: links not fetched (not HTML, /tag/, url_pattern...)
DISCOVERY_DROPPED: Final = "discovery/dropped/"  # + reason: malformed links, broken gzip, oversized nodes (parsers' reports)
DISCOVERY_REQUESTS: Final = "discovery/requests/"  # + request kind: requests scheduled
DISCOVERY_HTTP_STATUS: Final = "discovery/http_status/"  # + status: HTTP errors answered
DISCOVERY_SCHEDULE_CAP: Final = "discovery/schedule_cap/"  # + source: requests over the scheduling cap
DISCOVERY_BUDGET_EXHAUSTED: Final = "discovery/budget_exhausted/"  # + source: requests over the fetch budget
DISCOVERY_ROBOTS_SITEMAPS: Final = "discovery/robots_sitemaps"  # Sitemap: lines read in robots.txt
DISCOVERY_SITEMAP_ENTRIES: Final = "discovery/sitemap_entries"  # article entries of sitemaps
DISCOVERY_SITEMAP_TOO_OLD: Final = "discovery/sitemap_too_old"  # sitemap entries older than DISCOVERY_SITEMAP_MAX_AGE_DAYS
DISCOVERY_FEED_ENTRIES: Final = "discovery/feed_entries"  # entries of feeds

# -- import (crawler.storage.importer) ------------------------------------------------------
IMPORT_READ: Final = "import/read"  # good lines read
IMPORT_DROPPED: Final = "import/dropped"  # records that are not articles
IMPORT_BAD: Final = "import/bad/"  # + reason: malformed lines
IMPORT_FIXED: Final = "import/fixed/"  # + repair: fields of kept records repaired (controls removed, cut, dropped)

# -- shared crawl (crawler.scheduling.shared, .workers, .politeness) ------------------------------
SHARED_WORKER_ID: Final = "shared/worker_id"  # this worker's id (set only in a shared crawl)
SHARED_JOINED_RUNNING: Final = "shared/joined_running"  # workers already running when this one joined
SHARED_DEQUEUED: Final = "shared/dequeued"  # requests taken from the shared frontier
SHARED_ENQUEUED_LOCAL: Final = "shared/enqueued_local"  # requests that could not be shared
SHARED_IDLE_POLLS: Final = "shared/idle_polls"  # looks at the frontier while idle
SHARED_IDLE_SECONDS: Final = "shared/idle_seconds"  # time this worker was idle with the crawl not over
SHARED_REDIS_ERRORS: Final = "shared/redis_errors"  # Redis errors
SHARED_REQUEUED: Final = "shared/requeued"  # in-flight requests of dead workers put back in the queue by this one
SHARED_LEFT_REQUEUED: Final = "shared/left_requeued"  # this worker's unfinished requests put back as it left
SHARED_HANDOFFS: Final = "shared/handoffs"  # requests the idle poll took (it wakes the engine)
POLITENESS_WAITS: Final = "shared/politeness/waits"  # requests held back for a domain's delay
POLITENESS_WAIT_SECONDS: Final = "shared/politeness/wait_seconds"  # the time they waited, in all
POLITENESS_BUSY: Final = "shared/politeness/busy"  # polls for a domain at its concurrency
POLITENESS_BUSY_SECONDS: Final = "shared/politeness/busy_seconds"  # time requests waited for a domain's lease
# requests the gate let go that a local download slot then queued (sent late: closer than the delay to the next)
POLITENESS_HELD: Final = "shared/politeness/held_after_gate"
# the most a request left the gate after its instant (its worker's loop was busy): seconds
POLITENESS_LATE_MAX: Final = "shared/politeness/late_max"


class SourceCount:
    """Names of the per-source counts, ``source/<name>/<count>`` (see :func:`source_key`)."""

    PAGES_FETCHED: Final = "pages_fetched"  # pages fetched (any status)
    ARTICLES_STORED: Final = "articles_stored"  # articles written
    DROPPED: Final = "dropped"  # pages that are not articles
    ERRORS: Final = "errors"  # requests that failed (no answer); also errors/<exception name>
    START_ERRORS: Final = "start_errors"  # failed robots.txt, feeds, sitemaps, start pages
    HTTP_ERRORS: Final = "http_errors"  # answers with an error status
    SKIPPED_STORED: Final = "skipped_stored"  # stored pages not fetched again
    SKIPPED_NOT_ARTICLE: Final = "skipped_not_article"  # pages known not to be articles, not fetched again
    NOT_MODIFIED: Final = "not_modified"  # feeds, sitemaps, start pages answered 304
    INVALID_SITEMAPS: Final = "invalid_sitemaps"  # sitemaps that were not sitemaps
    EMPTY_FEEDS: Final = "empty_feeds"  # feeds without entries


#: the per-source counts summarised and recorded for every run
SOURCE_COUNTS: Final = (SourceCount.PAGES_FETCHED, SourceCount.ARTICLES_STORED, SourceCount.DROPPED,
                        SourceCount.ERRORS, SourceCount.START_ERRORS, SourceCount.SKIPPED_STORED,
                        SourceCount.SKIPPED_NOT_ARTICLE, SourceCount.NOT_MODIFIED)

#: finish reasons of a run that completed its work (a graceful SIGTERM / Ctrl-C is "shutdown")
OK_REASONS: Final = frozenset({"finished", "shutdown", "closespider_timeout", "closespider_itemcount",
                               "closespider_pagecount"})


def source_key(source: str, count: str) -> str:
    """``source/<source>/<count>``: a :class:`SourceCount` of one source."""
    return f"source/{source}/{count}"


def source_error(source: str, exception: str) -> str:
    """``source/<source>/errors/<exception>``: failed requests of one source by exception name."""
    return f"source/{source}/{SourceCount.ERRORS}/{exception}"


def clean_dropped(reason: str) -> str:
    return CLEAN_DROPPED + reason


def dedup_rejected(why: str) -> str:
    """``dedup/rejected_<why>``: candidates refused although similar (``numbers``, ``date``, ``names``: the
    story facts conflict; ``cluster``: not close enough to every member of the cluster)."""
    return f"{DEDUP_REJECTED}_{why}"


def discovery_skipped(reason: str) -> str:
    return DISCOVERY_SKIPPED + reason


def discovery_dropped(reason: str) -> str:
    return DISCOVERY_DROPPED + reason


def discovery_requests(kind: str) -> str:
    return DISCOVERY_REQUESTS + kind


def discovery_http_status(status: int) -> str:
    return f"{DISCOVERY_HTTP_STATUS}{status}"


def discovery_schedule_cap(source: str) -> str:
    return DISCOVERY_SCHEDULE_CAP + source


def discovery_budget_exhausted(source: str) -> str:
    return DISCOVERY_BUDGET_EXHAUSTED + source


def incremental_refetch(verdict: str) -> str:
    return INCREMENTAL_REFETCH + verdict


def incremental_remembered(kind: str) -> str:
    return INCREMENTAL_REMEMBERED + kind


def import_bad(reason: str) -> str:
    return IMPORT_BAD + reason


def import_fixed(repair: str) -> str:
    return IMPORT_FIXED + repair


def prefixed(stats: Mapping[str, Any], prefix: str) -> Counter[str]:
    """Counts whose key is *prefix* plus one more name (no deeper ``/``), keyed by that name."""
    n = len(prefix)
    return Counter({k[n:]: v for k, v in stats.items() if k.startswith(prefix) and "/" not in k[n:]})


def _int(value: Any) -> int:
    return int(value or 0)


@dataclass
class SourceCounts:
    """What one run did for one source (:data:`SOURCE_COUNTS`)."""

    pages_fetched: int = 0
    articles_stored: int = 0
    dropped: int = 0
    errors: int = 0
    start_errors: int = 0
    skipped_stored: int = 0
    skipped_not_article: int = 0
    not_modified: int = 0


@dataclass
class RunTotals:
    """What one run did: the figures every report of a run shows (see :func:`summarise`)."""

    finish_reason: str = "unknown"
    pages_fetched: int = 0
    articles_stored: int = 0
    already_stored: int = 0
    duplicates_merged: int = 0  # copies merged into an earlier copy's cluster: exact + near-duplicate
    dropped: Counter[str] = field(default_factory=Counter)  # pages that are not articles, by reason
    skipped: Counter[str] = field(default_factory=Counter)  # links not fetched, by reason
    robots_forbidden: int = 0
    skipped_stored: int = 0  # known pages not fetched again
    not_modified: int = 0  # feeds, sitemaps, start pages answered 304
    boilerplate_removed: int = 0
    per_source: dict[str, SourceCounts] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the run completed (exit 0); else it failed (e.g. the database went away)."""
        return self.finish_reason in OK_REASONS


def summarise(stats: Mapping[str, Any], sources: Iterable[str] | None = None) -> RunTotals:
    """The one reading of a run's stats.

    Args:
        stats: the crawler's stats (or a :class:`CounterStats`'s ``get_stats()``).
        sources: the sources to report, each with zeros when it has no stats;
            None: every source that has a ``source/<name>/<count>`` stat.
    """
    names: dict[str, None] = dict.fromkeys(sources) if sources is not None else {}
    found: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "source" and parts[2] in SOURCE_COUNTS:
            found.setdefault(parts[1], {})[parts[2]] = _int(value)
    if sources is None:
        names = dict.fromkeys(sorted(found))
    return RunTotals(
        finish_reason=str(stats.get(FINISH_REASON, "unknown")),
        pages_fetched=_int(stats.get(RESPONSES)),
        articles_stored=_int(stats.get(STORE_INSERTED)),
        already_stored=_int(stats.get(STORE_ALREADY_STORED)),
        duplicates_merged=_int(stats.get(DEDUP_EXACT)) + _int(stats.get(DEDUP_NEAR_DUPLICATE)),
        dropped=prefixed(stats, CLEAN_DROPPED),
        skipped=prefixed(stats, DISCOVERY_SKIPPED),
        robots_forbidden=_int(stats.get(ROBOTS_FORBIDDEN)),
        skipped_stored=_int(stats.get(INCREMENTAL_SKIPPED_STORED)),
        not_modified=_int(stats.get(INCREMENTAL_NOT_MODIFIED)),
        boilerplate_removed=_int(stats.get(CLEAN_BOILERPLATE_REMOVED)),
        per_source={name: SourceCounts(**found.get(name, {})) for name in names},
    )


class StatsLike(Protocol):
    """What components built outside a crawl (``X.build(settings, stats, ...)``) use of
    their stats: Scrapy's ``StatsCollector`` in a crawl, :class:`CounterStats` otherwise."""

    def get_value(self, key: str, default: Any = None) -> Any: ...

    def set_value(self, key: str, value: Any) -> None: ...

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class CounterStats:
    """The part of Scrapy's ``StatsCollector`` API that pipelines use."""

    def __init__(self) -> None:
        self._stats: dict[str, Any] = {}

    def get_value(self, key: str, default: Any = None) -> Any:
        return self._stats.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self._stats[key] = value

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self._stats[key] = self._stats.get(key, start) + count

    def max_value(self, key: str, value: Any) -> None:
        self._stats[key] = max(self._stats.get(key, value), value)

    def min_value(self, key: str, value: Any) -> None:
        self._stats[key] = min(self._stats.get(key, value), value)

    def get_stats(self) -> dict[str, Any]:
        return dict(self._stats)

    def prefixed(self, prefix: str) -> Counter[str]:
        """Counts whose key starts with *prefix*, keyed by the rest."""
        return Counter({k[len(prefix):]: v for k, v in self._stats.items() if k.startswith(prefix)})
