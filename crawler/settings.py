"""Scrapy settings for the Arabic news crawler.

Every component reads its own prefixed settings (``SOURCES_*``, ``DISCOVERY_*``,
``CLEAN_*``, ``DEDUP_*``, ``STORAGE_*``, ``INCREMENTAL_*``); each can be
overridden on the command line with ``-s NAME=VALUE``.
"""

from __future__ import annotations

import os

from crawler import __version__

BOT_NAME = "arabic-news-crawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- Politeness (polite defaults for unattended cron runs) -------------------
USER_AGENT = (
    f"arabic-news-crawler/{__version__} (+https://github.com/arabic-news-crawler; research corpus)"
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
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
# Requests allowed per source per run: the bound on crawler traps (calendars,
# faceted and session URLs) and on runaway sections.
DISCOVERY_MAX_REQUESTS_PER_SOURCE = 2000
# How many links deep to follow from a start page (feeds/sitemaps are depth 0).
DISCOVERY_MAX_DEPTH = 3
# How many section pages to follow from one listing (pagination).
DISCOVERY_MAX_PAGES_PER_SECTION = 5
# Sitemap entries older than this many days are skipped (0: keep all).
DISCOVERY_SITEMAP_MAX_AGE_DAYS = 0
# Query parameters removed during canonicalisation (tracking, sessions).
DISCOVERY_STRIP_PARAMS = [
    "utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "yclid",
    "ref", "ref_src", "ref_url", "src", "source", "cmp", "ocid", "ito", "at_*",
    "sessionid", "session_id", "sid", "phpsessid", "jsessionid", "amp", "outputType",
]

# --- Encoding (crawler/encoding.py) ------------------------------------------
ENCODING_FIX_ENABLED = True

# --- Clean (pipelines/clean.py) ----------------------------------------------
CLEAN_ENABLED = True
CLEAN_MIN_CHARS = 250  # body shorter than this is not an article
CLEAN_MIN_ARABIC_RATIO = 0.5  # share of Arabic letters in the body
CLEAN_LEARN_TEMPLATE = True  # learn repeated per-site blocks as boilerplate

# --- Dedup (pipelines/dedup.py, crawler/dedup.py) ----------------------------
DEDUP_ENABLED = True

# --- Storage (pipelines/store.py, crawler/storage.py) ------------------------
# The database URL: --db, else the DATABASE_URL environment variable, else
# SQLite under data/ (created on first use). `-s DATABASE_URL=...` (the
# contract's name for it) overrides STORAGE_URL.
STORAGE_URL = os.environ.get("DATABASE_URL") or "sqlite:///data/news.db"
STORAGE_BATCH_SIZE = 50  # items per write transaction
STORAGE_KEEP_RAW_HTML = True  # compressed, so extraction can be re-run

# --- Incremental crawling ----------------------------------------------------
# Skip URLs already stored; re-fetch a stored article after this many hours
# (0: never re-fetch).
INCREMENTAL_ENABLED = True
INCREMENTAL_RECHECK_HOURS = 0

ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 300,
    "pipelines.dedup.DedupPipeline": 500,
    "pipelines.store.StorePipeline": 800,
}

DOWNLOADER_MIDDLEWARES = {
    "crawler.encoding.EncodingFixMiddleware": 950,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
