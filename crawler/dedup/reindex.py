"""``python -m crawler reindex``: rebuild the de-duplication indexes from what is stored.

Signatures and band keys are only comparable when one configuration made
them (``DedupConfig.fingerprint``); a crawl whose ``DEDUP_*`` settings, or a
release whose hashing, differ from the stored index exits 2 rather than mix
them. This rebuilds both indexes with the current settings:

* articles -- every stored article's matching form, shingles, signature and
  band keys are recomputed from its stored text; ``dedup_docs`` and
  ``dedup_bands`` are rewritten and ``articles.signature`` updated. Cluster
  assignments are kept: reindexing changes what future copies are matched
  against, never which copies were merged.
* headlines -- the band keys of every stored headline spelling are recomputed
  from its stored key; variants, clusters and occurrences are kept.

The index is marked as being rebuilt first (its fingerprint row says so), so
that a crawl started after a reindex was killed exits 2 instead of matching
against half an index; running ``reindex`` again finishes the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, select, update

from crawler.dedup.minhash import DedupConfig, MinHasher
from crawler.dedup.index import REBUILDING, doc_key, write_docs, write_headlines
from crawler.storage.models import DedupBand, DedupConfigRow, DedupDoc, HeadlineBand, HeadlineVariant
from crawler.dedup.headlines import HeadlineConfig
from crawler.storage.bulk import upsert
from crawler.storage.database import Database
from crawler.storage.models import Article, utcnow

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

__all__ = ["reindex"]

_BATCH = 1000


def _set_fingerprint(db: Database, name: str, fingerprint: str) -> None:
    with db.begin() as s:
        row = {"name": name, "fingerprint": fingerprint, "created_at": utcnow()}
        upsert(s, DedupConfigRow, [row], ["name"], ["fingerprint", "created_at"])


def _batches(db: Database, query: Any, key: Any) -> Iterator[list[Any]]:
    """Rows of *query* in batches, paged by the integer column *key* (bounded memory)."""
    last = None
    while True:
        with db.session() as s:
            q = query if last is None else query.where(key > last)
            rows = s.execute(q.order_by(key).limit(_BATCH)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def reindex(
    db: Database, settings: BaseSettings, *, progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Rebuild the article and headline indexes of *db* with the DEDUP_* *settings*.

    Args:
        progress: called with (index name, rows done so far) after each batch.

    Returns:
        ``{"articles": n, "headlines": m}``: the rows indexed.
    """
    from crawler.dedup.clusterer import prepare_many

    config = DedupConfig.from_settings(settings)
    hasher = MinHasher(config)
    counts = {"articles": 0, "headlines": 0}

    _set_fingerprint(db, "articles", REBUILDING + config.fingerprint)
    with db.begin() as s:
        s.execute(delete(DedupBand))
        s.execute(delete(DedupDoc))
    query = select(Article.id, Article.url, Article.text, Article.cluster_id)
    for rows in _batches(db, query, Article.id):
        prepared = prepare_many(hasher, [text or "" for _id, _url, text, _cid in rows])  # numbers unused here
        now = utcnow()
        docs = [
            {"doc": doc_key(url), "url": url, "content_hash": prep[0], "cluster_id": cid or "", "created_at": now}
            for (_id, url, _text, cid), prep in zip(rows, prepared)
        ]
        sig_update = (
            update(Article.__table__).where(Article.__table__.c.id == bindparam("b_id"))
            .values(signature=bindparam("b_sig"), content_hash=bindparam("b_hash"))
        )
        with db.begin() as s:
            write_docs(s, docs, [prep[4] for prep in prepared])
            s.connection().execute(
                sig_update,
                [{"b_id": row[0], "b_sig": prep[3], "b_hash": prep[0]} for row, prep in zip(rows, prepared)],
            )
        counts["articles"] += len(rows)
        if progress:
            progress("articles", counts["articles"])
    _set_fingerprint(db, "articles", config.fingerprint)

    if settings.getbool("DEDUP_HEADLINES"):
        head_config = HeadlineConfig.from_settings(settings)
        head_hasher = MinHasher(head_config.minhash_config())
        _set_fingerprint(db, "headlines", REBUILDING + head_config.fingerprint)
        with db.begin() as s:
            s.execute(delete(HeadlineBand))
        query = select(HeadlineVariant.variant, HeadlineVariant.key)
        for rows in _batches(db, query, HeadlineVariant.variant):
            sigs = head_hasher.signatures(head_hasher.shingles_many([f" {key} " for _v, key in rows]))
            bands = [
                (k, vid) for (vid, _key), keys in zip(rows, head_hasher.band_keys_many(sigs).tolist()) for k in keys
            ]
            with db.begin() as s:
                write_headlines(s, [], bands, [])
            counts["headlines"] += len(rows)
            if progress:
                progress("headlines", counts["headlines"])
        _set_fingerprint(db, "headlines", head_config.fingerprint)
    logger.info("Reindexed %(articles)d articles and %(headlines)d headline spellings", counts)
    return counts
