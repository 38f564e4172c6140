"""Clustering pages one at a time, each stored before the next (as a shared crawl's locks make it)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crawler.dedup.clusterer import Deduplicator
from crawler.stats import CounterStats
from crawler.storage.database import Database
from crawler.storage.writer import ArticleWriter
from tests.support.settings import project_settings


def cluster_in_order(db_path: Path, pages: Iterable[dict[str, Any]]) -> dict[str, str]:
    """url -> cluster id of *pages* de-duplicated and stored in the order given, in a new SQLite database."""
    db = Database.open(f"sqlite:///{db_path}")
    try:
        settings = project_settings()
        dedup = Deduplicator.build(settings, CounterStats(), db)
        dedup.open()
        writer = ArticleWriter.build(settings, CounterStats(), db)
        cluster_of: dict[str, str] = {}
        for page in pages:
            (item,) = dedup.process_batch([dict(page)])
            writer.write_now([item])
            cluster_of[item["url"]] = item["cluster_id"]
        return cluster_of
    finally:
        db.close()


def groups(cluster_of: dict[str, str]) -> dict[str, frozenset[str]]:
    """cluster id -> the URLs in it."""
    out: dict[str, set[str]] = {}
    for url, cid in cluster_of.items():
        out.setdefault(cid, set()).add(url)
    return {cid: frozenset(urls) for cid, urls in out.items()}
