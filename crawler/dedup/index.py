"""Database side of de-duplication: the band index, headline tables, config.

Tables (migration ``0002``):

* ``dedup_config`` -- one row per index (``articles``, ``headlines``) with the
  fingerprint of the configuration that made its signatures and band keys.
* ``dedup_docs`` -- one row per indexed article copy: a 64-bit key of its URL,
  the URL, its content hash and cluster id. Written *before* the article row.
* ``dedup_bands`` -- the database-resident LSH index: (band key, doc key).
  Nothing is loaded at start-up, so start-up does not grow with the corpus.
* ``headline_variants`` / ``headline_bands`` / ``headline_occurrences`` --
  each distinct headline spelling with its cluster, its n-gram LSH keys, and
  every place it was seen (a title, or entry *pos* of a related list).

All writes are idempotent (``ON CONFLICT DO NOTHING``), so a run killed at any
moment and run again converges to the same rows. Every multi-row insert is
sorted by the table's key first: concurrent writers of a shared crawl then
take their row locks in one order, so two PostgreSQL transactions cannot
deadlock on each other's index rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import xxhash
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crawler.dedup.minhash import sorted_unique, to_signed64
from crawler.storage.bulk import insert_ignore, upsert
from crawler.storage.database import Database, StorageError
from crawler.storage.models import (
    Article, Base, DedupBand, DedupConfigRow, DedupDoc, HeadlineBand, HeadlineOccurrence, HeadlineVariant, MergeRecord,
    utcnow,
)

logger = logging.getLogger(__name__)

_CHUNK = 500  # bound parameters per IN (...) query
_PG_PAGE = 20_000  # rows per INSERT ... SELECT FROM unnest(...) on PostgreSQL
_SQLITE_PARAMS = 999  # bound parameters per multi-row INSERT on SQLite (the least limit of any build)
#: Prefix of an index's fingerprint while ``crawler.dedup.reindex`` rebuilds it.
REBUILDING = "rebuilding;"


class DedupConfigMismatch(StorageError):
    """The database's index was built with another dedup configuration."""


def doc_key(url: str) -> int:
    """Signed 64-bit key of a canonical URL."""
    return to_signed64(xxhash.xxh64_intdigest(url.encode("utf-8")))


def check_config(db: Database, name: str, fingerprint: str, *, adopt: bool = False) -> None:
    """Record *fingerprint* for index *name*, or check it against the stored one.

    Args:
        adopt: replace a different stored fingerprint (after a re-index).

    Raises:
        DedupConfigMismatch: the index was built with another configuration.
    """
    with db.begin() as s:
        row = s.get(DedupConfigRow, name)
        if row is None:
            s.add(DedupConfigRow(name=name, fingerprint=fingerprint, created_at=utcnow()))
            return
        if row.fingerprint != fingerprint:
            if row.fingerprint.startswith(REBUILDING):
                raise DedupConfigMismatch(
                    f"dedup index {name!r} is being rebuilt (or a rebuild was interrupted); "
                    "run `python -m crawler reindex` to finish it"
                )
            if not adopt:
                stored_scheme, scheme = row.fingerprint.split(";", 1)[0], fingerprint.split(";", 1)[0]
                if stored_scheme != scheme:  # another release's hashing, not other settings
                    raise DedupConfigMismatch(
                        f"dedup index {name!r} was built with an earlier hashing scheme ({stored_scheme}, now "
                        f"{scheme}); rebuild it once: `python -m crawler reindex`"
                    )
                raise DedupConfigMismatch(
                    f"dedup index {name!r} was built with {row.fingerprint!r}, settings give {fingerprint!r}; "
                    "restore the DEDUP_* settings, or rebuild the index with them: `python -m crawler reindex`"
                )
            row.fingerprint, row.created_at = fingerprint, utcnow()


def reset_index(db: Database, name: str) -> None:
    """Drop an index (its rows and config) so that it can be rebuilt."""
    tables = {"articles": (DedupBand, DedupDoc), "headlines": (HeadlineBand,)}[name]
    with db.begin() as s:
        for model in tables:
            s.execute(delete(model))
        s.execute(delete(DedupConfigRow).where(DedupConfigRow.name == name))


def _insert(s: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: list[str], update: Sequence[str] = ()) -> None:
    """Idempotent bulk insert: skip (or update *update* columns) on conflict.

    SQLite and PostgreSQL get one driver-level ``executemany`` of a plain
    ``INSERT ... ON CONFLICT`` (SQLAlchemy's per-row parameter processing
    costs more than the insert itself at import rates); other dialects use
    :func:`crawler.storage.database.insert_ignore` / :func:`crawler.storage.database.upsert`.
    """
    if not rows:
        return
    dialect = s.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        rows = sorted(rows, key=itemgetter(*keys))  # one lock order for every writer
        if update:
            upsert(s, model, rows, keys, update)
        else:
            insert_ignore(s, model, rows, keys)
        return
    cols = list(rows[0])
    get = itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    tuples = sorted(map(get, rows), key=itemgetter(*[cols.index(k) for k in keys]))
    _insert_tuples(s, model.__tablename__, cols, tuples, keys, update)


def _insert_tuples(
    s: Session, table: str, cols: Sequence[str], rows: Sequence[tuple[Any, ...]], keys: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """Driver-level ``INSERT ... ON CONFLICT`` of tuple rows (SQLite: multi-row ``VALUES``; PostgreSQL: unnest).

    Callers pass *rows* sorted by *keys* (the lock order of concurrent writers).
    """
    if not rows:
        return
    dialect = s.get_bind().dialect
    action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in update) if update else "DO NOTHING"
    tail = f" ON CONFLICT ({', '.join(keys)}) {action}"
    if dialect.name == "postgresql":
        # One statement per page of rows, each column sent as one array (unnest): the
        # driver's executemany sends a statement per row, which costs more than the
        # insert. One statement cannot update a row twice, so repeated keys keep their
        # last row (what row-by-row upserts leave).
        if update:
            at = [list(cols).index(k) for k in keys]
            rows = list({tuple(r[i] for i in at): r for r in rows}.values())
        columns = Base.metadata.tables[table].c
        arrays = ", ".join(f"%b::{columns[c].type.compile(dialect=dialect)}[]" for c in cols)  # binary
        sql = f"INSERT INTO {table} ({', '.join(cols)}) SELECT * FROM unnest({arrays}){tail}"
        conn = s.connection()
        for part in _chunks(rows, _PG_PAGE):
            conn.exec_driver_sql(sql, tuple(list(col) for col in zip(*part)))
        return
    flat = list(chain.from_iterable(rows))
    width = len(cols)
    for i in [i for i, v in enumerate(rows[0]) if isinstance(v, datetime)]:  # SQLite: datetimes as text
        column = flat[i::width]
        text = {v: _sqlite_value(v) for v in set(column)}  # a batch shares one timestamp: converted once
        flat[i::width] = map(text.__getitem__, column)
    _sqlite_insert(s, table, cols, flat, tail)


def _sqlite_insert(s: Session, table: str, cols: Sequence[str], flat: list[Any], tail: str) -> None:
    """SQLite ``INSERT ... VALUES (...), (...) ...{tail}`` of rows given as one flat list of values.

    Many rows per statement: SQLite's per-statement work (and the driver's, per
    ``executemany`` row) then costs less than the insert itself.
    """
    width = len(cols)
    per = max(1, _SQLITE_PARAMS // width)  # rows per statement
    head = f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
    row = f"({', '.join(['?'] * width)})"
    conn = s.connection()
    count = len(flat) // width
    full, step = count // per * per, per * width
    if full:
        conn.exec_driver_sql(head + ", ".join([row] * per) + tail,
                             [tuple(flat[i : i + step]) for i in range(0, full * width, step)])
    if full < count:
        conn.exec_driver_sql(head + ", ".join([row] * (count - full)) + tail, tuple(flat[full * width :]))


def _sqlite_value(value: Any) -> Any:
    """Datetimes as SQLAlchemy stores them on SQLite (naive UTC text)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# -- articles ---------------------------------------------------------------
def docs_by_hash(s: Session, hashes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """content hash -> (url, cluster_id) of a *stored* copy (dangling rows ignored)."""
    out: dict[str, tuple[str, str]] = {}
    rows = _driver_rows(
        s, "SELECT d.content_hash, d.url, d.cluster_id FROM dedup_docs d JOIN articles a ON a.url = d.url "
        "WHERE d.content_hash IN ({marks}) ORDER BY d.content_hash, d.url", sorted(set(hashes)),
    )
    if rows is not None:
        for h, url, cid in rows:
            out.setdefault(h, (url, cid))
        return out
    for part in _chunks(sorted(set(hashes))):
        q = (
            select(DedupDoc.content_hash, DedupDoc.url, DedupDoc.cluster_id)
            .join(Article, Article.url == DedupDoc.url)
            .where(DedupDoc.content_hash.in_(part))
            .order_by(DedupDoc.content_hash, DedupDoc.url)
        )
        for h, url, cid in s.execute(q):
            out.setdefault(h, (url, cid))
    return out


def docs_by_url(s: Session, urls: Sequence[str]) -> dict[str, tuple[str, str]]:
    """url -> (content_hash, cluster_id) of stored, indexed copies."""
    out: dict[str, tuple[str, str]] = {}
    rows = _driver_rows(
        s, "SELECT d.url, d.content_hash, d.cluster_id FROM dedup_docs d JOIN articles a ON a.url = d.url "
        "WHERE d.doc IN ({marks})", sorted({doc_key(u) for u in urls}),
    )
    if rows is not None:
        for url, h, cid in rows:
            out[url] = (h, cid)
        return out
    for part in _chunks(sorted(set(urls))):
        q = (
            select(DedupDoc.url, DedupDoc.content_hash, DedupDoc.cluster_id)
            .join(Article, Article.url == DedupDoc.url)
            .where(DedupDoc.doc.in_([doc_key(u) for u in part]))
        )
        for url, h, cid in s.execute(q):
            out[url] = (h, cid)
    return out


def _driver_rows(s: Session, sql: str, values: Sequence[Any]) -> Iterable[Any] | None:
    """Rows of *sql* (``{marks}``: one placeholder per value) run at driver level in chunks.

    SQLite and PostgreSQL only (None elsewhere): a batch looks up thousands of
    band keys, and SQLAlchemy's expansion of large ``IN`` lists costs more than
    the lookups themselves.
    """
    dialect = s.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return None
    conn = s.connection()
    if dialect == "postgresql":  # one array parameter: one short statement, parsed once
        return conn.exec_driver_sql(sql.replace("IN ({marks})", "= ANY(%b)"), (list(values),)) if values else ()

    def rows() -> Iterable[Any]:
        for part in _chunks(values):
            yield from conn.exec_driver_sql(sql.format(marks=", ".join(["?"] * len(part))), tuple(part))

    return rows()


def band_candidates(s: Session, keys: Sequence[int] | np.ndarray) -> dict[int, set[str]]:
    """band key -> URLs of indexed copies sharing it (may include dangling ones); *keys*: a list or an int64 array."""
    out: dict[int, set[str]] = {}
    rows = _driver_rows(
        s, "SELECT b.key, d.url FROM dedup_bands b JOIN dedup_docs d ON d.doc = b.doc WHERE b.key IN ({marks})",
        _sorted_unique_ints(keys),
    )
    if rows is not None:
        for key, url in rows:
            out.setdefault(key, set()).add(url)
        return out
    for part in _chunks(_sorted_unique_ints(keys)):
        q = select(DedupBand.key, DedupDoc.url).join(DedupDoc, DedupDoc.doc == DedupBand.doc).where(DedupBand.key.in_(part))
        for key, url in s.execute(q):
            out.setdefault(key, set()).add(url)
    return out


def stored_texts(s: Session, urls: Sequence[str]) -> dict[str, tuple[str, str, str | None]]:
    """url -> (text, title, cluster_id) of stored articles; missing URLs dangle."""
    out = {}
    for part in _chunks(sorted(set(urls))):
        q = select(Article.url, Article.text, Article.title, Article.cluster_id).where(Article.url.in_(part))
        for url, text, title, cid in s.execute(q):
            out[url] = (text, title or "", cid)
    return out


def cluster_texts(s: Session, cluster_id: str, limit: int) -> dict[str, tuple[str, str]]:
    """url -> (text, title) of the earliest *limit* stored copies of one cluster."""
    dialect = s.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):  # driver level: a batch asks for hundreds of clusters
        sql = f"SELECT url, text, title FROM articles WHERE cluster_id = {'?' if dialect == 'sqlite' else '%s'} " \
              f"ORDER BY id LIMIT {int(limit)}"
        return {url: (text, title or "") for url, text, title in s.connection().exec_driver_sql(sql, (cluster_id,))}
    q = (select(Article.url, Article.text, Article.title).where(Article.cluster_id == cluster_id)
         .order_by(Article.id).limit(limit))
    return {url: (text, title or "") for url, text, title in s.execute(q)}


def _sorted_unique_ints(values: Sequence[int] | np.ndarray) -> list[int]:
    """``sorted(set(values))`` of 64-bit ints, by numpy (tens of thousands of band keys per batch)."""
    if not isinstance(values, np.ndarray):
        values = np.fromiter(values, dtype=np.int64, count=len(values))
    return sorted_unique(values.astype(np.int64, copy=False)).tolist()


def _insert_pairs(s: Session, model: type[Base], cols: list[str], firsts: np.ndarray, seconds: np.ndarray) -> None:
    """Insert (first, second) int64 rows (idempotent) in primary-key order: one lock order for every writer.

    Sorted by numpy, and on SQLite passed on as one flat list of values (no tuple per
    row): an import batch writes tens of thousands of band rows.
    """
    order = np.lexsort((seconds, firsts))
    firsts, seconds = firsts[order], seconds[order]
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        flat = np.column_stack((firsts, seconds)).ravel().tolist()
        _sqlite_insert(s, model.__tablename__, cols, flat, f" ON CONFLICT ({', '.join(cols)}) DO NOTHING")
        return
    pairs = list(zip(firsts.tolist(), seconds.tolist()))
    if dialect == "postgresql":
        _insert_tuples(s, model.__tablename__, cols, pairs, cols)
    else:
        insert_ignore(s, model, [dict(zip(cols, p)) for p in pairs], cols)


def write_docs(s: Session, docs: Sequence[dict[str, Any]], band_keys: Sequence[Sequence[int]]) -> None:
    """Write index rows (idempotent): ``dedup_docs`` upserted, ``dedup_bands`` (key, doc) pairs inserted.

    Args:
        band_keys: the LSH band keys of each of *docs*, in the same order.
    """
    _insert(s, DedupDoc, docs, ["doc"], ["url", "content_hash", "cluster_id"])
    counts = [len(ks) for ks in band_keys]
    if not sum(counts):
        return
    keys = np.fromiter(chain.from_iterable(band_keys), dtype=np.int64, count=sum(counts))
    owners = np.repeat(np.array([d["doc"] for d in docs], dtype=np.int64), counts)
    _insert_pairs(s, DedupBand, ["key", "doc"], keys, owners)


# -- headlines --------------------------------------------------------------
def variants_by_id(s: Session, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """variant id -> (cluster_id, text, key)."""
    out = {}
    rows = _driver_rows(
        s, "SELECT variant, cluster_id, text, key FROM headline_variants WHERE variant IN ({marks})", sorted(set(ids))
    )
    if rows is not None:
        for vid, cid, text, key in rows:
            out[vid] = (cid, text, key)
        return out
    for part in _chunks(sorted(set(ids))):
        q = select(HeadlineVariant.variant, HeadlineVariant.cluster_id, HeadlineVariant.text, HeadlineVariant.key)
        for vid, cid, text, key in s.execute(q.where(HeadlineVariant.variant.in_(part))):
            out[vid] = (cid, text, key)
    return out


def clusters_by_key(s: Session, key_ids: Sequence[int]) -> dict[int, str]:
    """normalised key id -> cluster id (exact headline merges)."""
    out: dict[int, str] = {}
    rows = _driver_rows(
        s, "SELECT key_id, cluster_id FROM headline_variants WHERE key_id IN ({marks}) ORDER BY key_id, variant",
        sorted(set(key_ids)),
    )
    if rows is not None:
        for kid, cid in rows:
            out.setdefault(kid, cid)
        return out
    for part in _chunks(sorted(set(key_ids))):
        q = select(HeadlineVariant.key_id, HeadlineVariant.cluster_id).where(HeadlineVariant.key_id.in_(part))
        for kid, cid in s.execute(q.order_by(HeadlineVariant.key_id, HeadlineVariant.variant)):
            out.setdefault(kid, cid)
    return out


def headline_band_candidates(s: Session, keys: Sequence[int] | np.ndarray) -> dict[int, set[int]]:
    """band key -> ids of the variants sharing it; *keys*: a list or an int64 array."""
    out: dict[int, set[int]] = {}
    rows = _driver_rows(s, "SELECT key, variant FROM headline_bands WHERE key IN ({marks})", _sorted_unique_ints(keys))
    if rows is not None:
        for key, vid in rows:
            out.setdefault(key, set()).add(vid)
        return out
    for part in _chunks(_sorted_unique_ints(keys)):
        for key, vid in s.execute(select(HeadlineBand.key, HeadlineBand.variant).where(HeadlineBand.key.in_(part))):
            out.setdefault(key, set()).add(vid)
    return out


def write_headlines(
    s: Session,
    variants: Sequence[dict[str, Any]],
    bands: Sequence[tuple[int, int]] | np.ndarray,
    occurrences: Sequence[dict[str, Any]],
    merges: Sequence[dict[str, Any]] = (),
) -> None:
    """Write headline rows (idempotent; merge records only come with new variants)."""
    if merges:  # no unique key, nothing to lock: kept in the order the merges were made
        s.execute(MergeRecord.__table__.insert(), list(merges))
    _insert(s, HeadlineVariant, variants, ["variant"])
    if len(bands):  # (key, variant) tuples, or an (n, 2) array
        pairs = np.array(bands, dtype=np.int64).reshape(-1, 2)
        _insert_pairs(s, HeadlineBand, ["key", "variant"], pairs[:, 0], pairs[:, 1])
    _insert(s, HeadlineOccurrence, occurrences, ["page_url", "kind", "pos"])
