"""Scrapy settings for the Arabic news crawler.

Every component reads its own prefixed settings (``SOURCES_*``, ``DISCOVERY_*``,
``CLEAN_*``, ``DEDUP_*``, ``STORAGE_*``, ``INCREMENTAL_*``); each can be
overridden on the command line with ``-s NAME=VALUE``.
"""

from __future__ import annotations

import os

from crawler import __version__
from crawler.urls import DEFAULT_STRIP_PARAMS

BOT_NAME = "arabic-news-crawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- Politeness (polite defaults for unattended cron runs) -------------------
# Honest and identifiable; operators should add a contact: -s USER_AGENT="... (+mailto:you@example.org)".
USER_AGENT = f"arabic-news-crawler/{__version__} (news corpus research crawler; obeys robots.txt)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Outputs of one callback processed at once. A page yields one item at most and
# its links: Scrapy's 100 would start 100 asyncio tasks per response for that.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port on a cron host
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
DEPTH_PRIORITY = 1  # breadth-first: home and section pages before deep links
DNS_TIMEOUT = 20

# --- Sources -----------------------------------------------------------------
# The YAML sources file (see README); `scrapy crawl news -a sources=FILE` wins.
SOURCES_FILE = "sources.yaml"

# --- Discovery (spiders/news.py) ---------------------------------------------
# Fetches allowed per source per run: the bound on crawler traps (calendars,
# faceted and session URLs) and on runaway sections. Charged at download time
# (crawler/scheduling/budget.py), so stored articles skipped unfetched cost nothing.
DISCOVERY_MAX_REQUESTS_PER_SOURCE = 2000
# Requests scheduled per source are capped at this many times the budget.
DISCOVERY_SCHEDULE_FACTOR = 5
# How many links deep to follow from a start page (feeds/sitemaps are depth 0).
DISCOVERY_MAX_DEPTH = 3
# How many section pages to follow from one listing (pagination).
DISCOVERY_MAX_PAGES_PER_SECTION = 5
# Sitemap entries older than this many days are skipped (0: keep all).
DISCOVERY_SITEMAP_MAX_AGE_DAYS = 0
# Query parameters removed during canonicalisation (tracking, sessions).
DISCOVERY_STRIP_PARAMS = list(DEFAULT_STRIP_PARAMS)  # see crawler/urls.py

# --- Encoding (crawler/discovery/encoding.py) ------------------------------------------
ENCODING_FIX_ENABLED = True  # re-decode pages whose Arabic came out garbled
ENCODING_FIX_THRESHOLD = 0.05  # garble score above which a page is re-decoded

# --- Clean (pipelines/clean.py) ----------------------------------------------
CLEAN_ENABLED = True  # extract and filter articles (off: items pass as fetched)
CLEAN_MIN_CHARS = 250  # body shorter than this is not an article
CLEAN_MIN_ARABIC_RATIO = 0.5  # share of Arabic letters in the body
CLEAN_LEARN_TEMPLATE = True  # learn repeated per-site blocks as boilerplate
CLEAN_PAGE_TIME_BUDGET = 5.0  # seconds one page may take to extract; over it: dropped as too_slow (0: no limit)
# Extraction in worker processes (off the reactor, on the other cores), started
# once a crawl has scheduled more than CLEAN_WORKERS_AFTER requests (the pages
# that arrive before the workers are ready are extracted in-process). 0: in-process only.
CLEAN_WORKERS = 1
CLEAN_WORKERS_AFTER = 30

# --- Dedup (pipelines/dedup.py, crawler/dedup/minhash.py, crawler/dedup/headlines.py) -----
# Chosen from the labelled evaluation set (docs/benchmarks.md, bench-dedup).
# Signatures are only comparable when SHINGLE*, NUM_PERM, BANDS, ROWS and SEED
# match: a change is detected at start (exit 2) unless DEDUP_ADOPT_CONFIG.
DEDUP_ENABLED = True  # merge near-duplicate articles into clusters
DEDUP_SHINGLE = "word"  # word or char shingles of the matching form
DEDUP_SHINGLE_SIZE = 3  # words (or characters) per shingle
DEDUP_NUM_PERM = 128  # MinHash permutations per signature
DEDUP_BANDS = 32  # LSH bands (BANDS * ROWS <= NUM_PERM)
DEDUP_ROWS = 4  # signature rows per LSH band
DEDUP_SEED = 1  # MinHash permutation seed
DEDUP_THRESHOLD = 0.4  # verified Jaccard needed to merge an LSH candidate
DEDUP_MIN_SHINGLES = 5  # shorter bodies only merge by exact hash
DEDUP_PENDING_MAX = 5000  # this run's unstored copies kept for matching
# A copy joins a cluster when its best candidate is within DEDUP_THRESHOLD and
# every member within DEDUP_MEMBER_THRESHOLD (complete link: no chains, no two
# members of one cluster under 0.3, "different stories" in the corpus evaluation);
# this many of the earliest stored members are compared.
DEDUP_MEMBER_THRESHOLD = 0.3
DEDUP_MAX_MEMBERS_CHECKED = 100
# Under this Jaccard, two texts from one template whose headlines each name what
# their own body repeats and the other never mentions (another country, city,
# person) are two stories, not copies.
DEDUP_NAMES_BELOW = 0.7
# In a crawl, items that arrive while a batch is being clustered wait and go
# together (one transaction, off the reactor); at most this many. 1: one by one.
DEDUP_BATCH_SIZE = 50
# PostgreSQL: a crawl's batch locks the LSH band keys of its copies until they are
# stored, so concurrent workers of a shared crawl cluster as one process would
# (crawler/dedup/locks.py). A batch with more keys locks the whole index instead;
# a worker holds at most DEDUP_LOCK_MAX_HELD batches' locks (PostgreSQL's lock
# table: max_locks_per_transaction * max_connections, 6,400 by default).
DEDUP_LOCKS = True
DEDUP_LOCK_MAX_KEYS = 512
DEDUP_LOCK_MAX_HELD = 4
DEDUP_ADOPT_CONFIG = False  # accept a changed configuration instead of exiting 2
DEDUP_HEADLINES = True  # also cluster repeated headlines (crawler/dedup/headlines.py)
DEDUP_HEADLINE_NGRAM = 3  # character n-grams of a headline
DEDUP_HEADLINE_NUM_PERM = 64  # headline MinHash permutations
DEDUP_HEADLINE_BANDS = 16  # headline LSH bands
DEDUP_HEADLINE_ROWS = 4  # headline LSH rows per band
DEDUP_HEADLINE_THRESHOLD = 0.6  # verified n-gram Jaccard to merge two headlines
DEDUP_HEADLINE_MAX_WORD_DIFF = 2  # words one headline may add to the other

# --- Import (crawler/storage/importer.py) ----------------------------------------------
IMPORT_BATCH_SIZE = 1000  # records per dedup + write transaction
IMPORT_CHUNK_SIZE = 250  # lines per worker task
IMPORT_WORKERS = min(4, os.cpu_count() or 1)  # 0: clean in-process
IMPORT_WORKER_NICE = 10  # workers yield the CPU to the serial dedup + storage stage
IMPORT_OVERLAP_WRITES = True  # a batch's articles are written on a thread while the next batch is de-duplicated

# --- Storage (pipelines/store.py, crawler/storage/database.py) ------------------------
STORAGE_ENABLED = True  # off: articles are cleaned and de-duplicated but not written
# The database URL: --db, else the DATABASE_URL environment variable, else
# SQLite under data/ (created on first use). `-s DATABASE_URL=...` (the
# contract's name for it) overrides STORAGE_URL.
STORAGE_URL = os.environ.get("DATABASE_URL") or "sqlite:///data/news.db"
# The contract's `-s DATABASE_URL=...`: when set, it wins over STORAGE_URL.
DATABASE_URL = None
STORAGE_BATCH_SIZE = 50  # items per write transaction
STORAGE_FLUSH_SECONDS = 10.0  # a partial batch is written after this long
# Retries of a batch while the database is away (waits 1, 2, 4, 8, 16 s); then
# the crawl closes with reason database_unavailable (exit 1).
STORAGE_RETRY_TIMES = 5
STORAGE_KEEP_RAW_HTML = True  # compressed, so extraction can be re-run

# --- Incremental crawling ----------------------------------------------------
# Skip URLs already stored; re-fetch a stored article after this many hours
# (0: never re-fetch).
INCREMENTAL_ENABLED = True
INCREMENTAL_RECHECK_HOURS = 0
# Stored-URL look-ups run off the reactor; the requests that arrive while one
# runs are looked up together, at most this many per query (0: one
# synchronous look-up per request).
INCREMENTAL_LOOKUP_BATCH = 200

# --- Incremental details, overlap lock, run records ---------------------------
# (crawler/scheduling/incremental.py, crawler/scheduling/lock.py, crawler/scheduling/runs.py)
# Conditional requests (ETag / Last-Modified) for feeds, sitemaps, start and
# listing pages; validators are kept in url_state.
INCREMENTAL_CONDITIONAL = True
INCREMENTAL_STATE_BATCH = 200  # url_state rows per write
# A dropped page with this many headline-like links is a section: fetched again
# on every run (conditionally) instead of being remembered as not an article.
INCREMENTAL_LISTING_LINKS = 8
# Request fingerprints remembered by the dupefilter (an LRU, not a growing set).
INCREMENTAL_DUPEFILTER_MAX = 100_000
DUPEFILTER_CLASS = "crawler.scheduling.dupefilter.BoundedDupeFilter"
# One crawl per database at a time (`crawl` exits 75 when the lock is taken).
LOCK_ENABLED = True
LOCK_HELD = False  # set by `crawl`, which already holds the lock (not for users)
# Every run is a row of crawl_runs; the running row is refreshed this often.
RUNS_ENABLED = True
RUNS_UPDATE_SECONDS = 60
RUNS_MAX_ERRORS = 50  # error messages kept on a run's row
# `stats` health: a source is flagged when its last RUNS_HEALTH_RUNS runs found
# no article, or when the last run lost bodies/dates/titles (a redesign); a loss
# is only judged on a run (and a baseline) of at least RUNS_HEALTH_MIN_PAGES pages.
RUNS_HEALTH_RUNS = 3
RUNS_HEALTH_MIN_PAGES = 5

ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 300,
    "pipelines.dedup.DedupPipeline": 500,
    "pipelines.store.StorePipeline": 800,
}

DOWNLOADER_MIDDLEWARES = {
    "crawler.scheduling.incremental.SkipStoredMiddleware": 50,
    "crawler.scheduling.incremental.ConditionalRequestMiddleware": 60,
    # After robots.txt (100): only what is really fetched is charged.
    "crawler.scheduling.budget.SourceBudgetMiddleware": 110,
    "crawler.discovery.encoding.EncodingFixMiddleware": 950,
}

EXTENSIONS = {
    "crawler.scheduling.lock.LockExtension": 0,  # first: `scrapy crawl` exits 75 before anything opens
    # The database, url_state writer and Redis client every component shares (CrawlServices.of(crawler)).
    "crawler.scheduling.services.CrawlServices": 50,
    "crawler.scheduling.runs.RunRecorder": 100,
}

# --- Feed exports (`scrapy crawl news -o FILE`, any of Scrapy's formats) ------
# The items are the contract's article records of the articles stored
# (crawler/items.py ArticleRecord); CSV and XML as crawler/storage/exporters.py writes them.
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {
    "csv": "crawler.storage.exporters.ArticleCsvItemExporter",
    "xml": "crawler.storage.exporters.ArticleXmlItemExporter",
}
# --- Logging -----------------------------------------------------------------
# Scrapy's LOG_* settings; `python -m crawler crawl --log-file FILE` honours
# LOG_LEVEL, LOG_FORMAT and LOG_DATEFORMAT too (a rotated FILE in place of LOG_FILE).
LOG_LEVEL = "INFO"
# Dropped and failed items are logged by URL, not dumped with their page (crawler/logformatter.py).
LOG_FORMATTER = "crawler.logformatter.ShortItemLogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# --- Shared crawl through Redis (`crawl --redis URL`; crawler/scheduling/shared.py) -----
# Workers pointed at the same Redis and PostgreSQL database share one frontier
# and one seen-set (scrapy-redis's Scheduler, PriorityQueue and RFPDupeFilter)
# and the database's dedup index. `crawl --redis` (or $REDIS_URL) sets REDIS_URL
# and scrapy-redis's own settings (SCHEDULER, SCHEDULER_QUEUE_CLASS,
# DUPEFILTER_CLASS, SCHEDULER_PERSIST, SCHEDULER_QUEUE_KEY, SCHEDULER_DUPEFILTER_KEY),
# plus the end rule and in-flight leases (crawler/scheduling/workers.py) and
# the global politeness gate (crawler/scheduling/politeness.py).
REDIS_URL = None
# Keys live under this prefix; empty: derived from the database (host, port,
# name), the sources file's content and --only, so different crawls never mix.
REDIS_KEY_PREFIX = ""
# A worker refreshes its liveness this often, and puts back the in-flight
# requests of workers found dead.
REDIS_HEARTBEAT_SECONDS = 5.0
REDIS_WORKER_TIMEOUT = 60.0  # a worker silent this long is taken for dead
REDIS_IDLE_POLL_SECONDS = 0.5  # an idle worker looks at the frontier this often
# Every key expires this long after the last worker's heartbeat (keys of a
# crawl whose workers were all killed do not stay forever); the seen-set and
# the frontier are deleted when the last worker of a shared crawl leaves.
REDIS_KEY_TTL_SECONDS = 86_400
REDIS_CONNECT_TIMEOUT = 5.0
# Politeness across workers: the per-domain delay and concurrency hold for all
# workers together (each worker's own slots then run without delay, jitter,
# AutoThrottle or per-domain limit). Unset (None): DOWNLOAD_DELAY and CONCURRENT_REQUESTS_PER_DOMAIN.
REDIS_GLOBAL_POLITENESS = True
REDIS_DOMAIN_DELAY = None
REDIS_DOMAIN_CONCURRENCY = None
# A per-domain concurrency lease not given back (its worker was killed) frees
# itself after this long: longer than a download (DOWNLOAD_TIMEOUT).
REDIS_DOMAIN_LEASE_SECONDS = 60.0
REDIS_DOMAIN_POLL_SECONDS = 0.05  # a request waiting for a domain's lease asks again this often
