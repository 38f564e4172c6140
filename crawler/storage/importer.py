"""``python -m crawler import FILE.jsonl``: an existing corpus through the crawl's cleaning, de-duplication and storage.

Each JSON line needs ``url``, ``title`` and ``text`` (or ``paragraphs``, a list).
Records go through the same ``ArticleCleaner``, ``Deduplicator`` and
``ArticleWriter`` as crawled pages. Work is batched: everything per record
that needs no database (parsing, cleaning, normalising, shingles, MinHash
signature and band keys, headline keys and their band keys) runs in worker
processes on chunks of ``IMPORT_CHUNK_SIZE`` lines (default 250), while the
main process de-duplicates and stores batches of ``IMPORT_BATCH_SIZE``
records (default 1000): one transaction for the batch's index rows, then one
for its articles, so a stored article always has its index rows and a
re-run converges to the same rows. Records travel as plain dicts (no
``ItemAdapter`` copies). Bad lines (not JSON, missing fields) are counted and
reported, never fatal.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from itertools import chain
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from crawler import stats as st
from crawler.stats import CounterStats, summarise
from crawler.dedup.minhash import DedupConfig, MinHasher
from crawler.dedup.headlines import HeadlineConfig, prepare_headlines
from crawler.items import ArticleItem, NotArticle
from crawler.storage.database import Database
from crawler.storage.search import search_body_of
from crawler.text import load_tables, matching_codepoints_many, strip_unstorable
from crawler.urls import MAX_URL_CHARS, canonical_url_or_none, invalid_reason, url_host

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

_SITE_KEYS = ("site", "source", "outlet", "publisher")
_DATE_KEYS = ("published_at", "date_publish", "published", "date", "time")
_FIELDS = ("authors", "tags", "attribution", "related_headlines")
_YOUNG_GC_EVERY = 4  # batches between collections of the young generations (see import_jsonl)
_FULL_GC_EVERY = 40  # batches between full garbage collections


class BadRecord(ValueError):
    """A line that cannot be imported; the message is the reason (a stat key)."""


# Column sizes (crawler/storage/models.py): a longer value fails the whole batch on PostgreSQL.
MAX_SITE = 64
MAX_PUBLISHED = 40
MAX_ATTRIBUTION = 512
#: List fields keep at most this many entries of at most MAX_ENTRY characters.
MAX_LIST = 200
MAX_ENTRY = 1000
def _plain(value: str) -> str:
    return strip_unstorable(value).strip()


def _strings(value: Any, fixes: Counter[str] | None, name: str) -> list[str]:
    """The strings of a list field, controls removed, bounded; anything else dropped and counted."""
    if not isinstance(value, list):
        if value not in (None, "", []):
            _fix(fixes, f"{name}_dropped")
        return []
    out = [_plain(v)[:MAX_ENTRY] for v in value[:MAX_LIST] if isinstance(v, str)]
    if len(out) != len(value):
        _fix(fixes, f"{name}_entries_dropped")
    return [v for v in out if v]


def _fix(fixes: Counter[str] | None, reason: str) -> None:
    if fixes is not None:
        fixes[reason] += 1


def _related(value: Any, fixes: Counter[str] | None) -> list[Any]:
    """Related headlines as ``{"headline": str, "url": str | None}`` or str; malformed entries dropped."""
    if not isinstance(value, list):
        if value not in (None, []):
            _fix(fixes, "related_headlines_dropped")
        return []
    out: list[Any] = []
    for entry in value[:MAX_LIST]:
        if isinstance(entry, str) and _plain(entry):
            out.append(_plain(entry)[:MAX_ENTRY])
        elif isinstance(entry, dict) and isinstance(entry.get("headline"), str) and _plain(entry["headline"]):
            url = entry.get("url")
            url = _plain(url) if isinstance(url, str) and invalid_reason(url) is None else None
            out.append({"headline": _plain(entry["headline"])[:MAX_ENTRY], "url": url})
    if len(out) != len(value):
        _fix(fixes, "related_headlines_entries_dropped")
    return out


def record_to_item(rec: Any, site: str | None, fixes: Counter[str] | None = None) -> ArticleItem:
    """Map one JSON record to an :class:`ArticleItem` (before cleaning), validated as a whole.

    Every field is checked before the record joins a batch, so that one record can never fail
    the batch's transaction: wrong types, control characters (a NUL is refused by PostgreSQL)
    and values longer than their columns. What a user would want kept is kept and counted in
    *fixes* (controls removed, a malformed list entry or an over-long ``published_at`` dropped,
    ``attribution`` cut); what cannot be repaired is a bad line.

    Raises:
        BadRecord: not an object; missing url / title / text; an invalid or over-long URL
            (``invalid_url``); a site name over 64 characters (``site_too_long``).
    """
    if not isinstance(rec, dict):
        raise BadRecord("not_an_object")
    url, title = rec.get("url"), rec.get("title")
    text = rec.get("text")
    if not text and isinstance(rec.get("paragraphs"), list):
        text = "\n".join(p for p in rec["paragraphs"] if isinstance(p, str))
    if not isinstance(url, str) or not url.strip():
        raise BadRecord("missing_url")
    if not isinstance(title, str) or not title.strip():
        raise BadRecord("missing_title")
    if not isinstance(text, str) or not text.strip():
        raise BadRecord("missing_text")
    url = url.strip()
    canonical = canonical_url_or_none(url)
    if invalid_reason(url) is not None or canonical is None or len(canonical) > MAX_URL_CHARS:
        raise BadRecord("invalid_url")
    name = next((_plain(rec[k]) for k in _SITE_KEYS if isinstance(rec.get(k), str) and _plain(rec[k])), None)
    if name is not None and len(name) > MAX_SITE:
        raise BadRecord("site_too_long")
    published = next((_plain(str(rec[k])) for k in _DATE_KEYS if isinstance(rec.get(k), str | int | float)
                      and not isinstance(rec.get(k), bool) and rec.get(k)), None)
    if published and len(published) > MAX_PUBLISHED:
        _fix(fixes, "published_at_dropped")
        published = None
    if published and len(published) >= 19 and published[10] == " ":
        published = published[:10] + "T" + published[11:]
    item = ArticleItem(
        url=url, site=name or site or url_host(url)[:MAX_SITE] or "import",
        fetched_at=_parse_time(rec.get("fetched_at")), title=title, text=text, published_at=published or None,
    )
    authors = rec.get("authors") or ([rec["author"]] if isinstance(rec.get("author"), str) and rec["author"] else [])
    item.authors = _strings(authors, fixes, "authors")
    item.tags = _strings(rec.get("tags"), fixes, "tags")
    attribution = rec.get("attribution")
    if isinstance(attribution, str) and _plain(attribution):
        item.attribution = _plain(attribution)
        if len(item.attribution) > MAX_ATTRIBUTION:
            _fix(fixes, "attribution_cut")
            item.attribution = item.attribution[:MAX_ATTRIBUTION]
    elif attribution not in (None, ""):
        _fix(fixes, "attribution_dropped")
    item.related_headlines = _related(rec.get("related_headlines"), fixes)
    return item


def _parse_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


# -- worker side ---------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(settings: BaseSettings, config: DedupConfig, headline_config: HeadlineConfig | None,
                 patterns_by_site: dict[str, tuple[str, ...]] | None = None) -> None:
    from crawler.extract.cleaner import ArticleCleaner

    stats = CounterStats()
    _WORKER.update(
        stats=stats, clean=ArticleCleaner.build(settings, stats, None, patterns_by_site), hasher=MinHasher(config),
        head_hasher=MinHasher(headline_config.minhash_config()) if headline_config else None,
    )


def _init_pool_worker(settings: BaseSettings, config: DedupConfig, headline_config: HeadlineConfig | None,
                      patterns_by_site: dict[str, tuple[str, ...]] | None = None) -> None:
    # Forked while the importing process had switched automatic collection off. What
    # the fork inherited is frozen first: the collector never scans (and so never
    # copies) the parent's objects, whatever the size of the importing process.
    gc.freeze()
    gc.enable()
    # De-duplication and storage run in one process, one batch after another: that
    # serial stage sets the pace. Workers yield the CPU to it rather than share it.
    nice = settings.getint("IMPORT_WORKER_NICE")
    if nice > 0 and hasattr(os, "nice"):
        os.nice(nice)
    _init_worker(settings, config, headline_config, patterns_by_site)


def _prepare_chunk(lines: list[tuple[int, bytes]], site: str | None) -> tuple[list[Any], dict[str, Any]]:
    """Parse, clean and shingle a chunk of lines: (records with their dedup prep, stats).

    Every piece of per-record work that needs no database runs here, in a
    worker process: parsing, cleaning, the body's shingles, signature and band
    keys, the headlines' keys, ids and band keys. A kept record is returned as
    a plain dict (what ``ItemAdapter(item).asdict()`` gives), with its
    :data:`crawler.dedup.clusterer.PreparedFull` and its headlines.
    """
    from crawler.dedup.clusterer import prepare_many

    stats: CounterStats = _WORKER["stats"]
    stats._stats.clear()
    clean, hasher, head_hasher = _WORKER["clean"], _WORKER["hasher"], _WORKER["head_hasher"]
    out: list[Any] = []
    kept: list[int] = []
    for lineno, raw in lines:
        fixes: Counter[str] = Counter()
        try:
            item = record_to_item(json.loads(raw), site, fixes)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            reason = (str(exc) if isinstance(exc, BadRecord) else "too_deep" if isinstance(exc, RecursionError)
                      else "not_json")
            stats.inc_value(st.import_bad(reason))
            out.append((lineno, reason, None))
            continue
        for fix, count in fixes.items():
            stats.inc_value(st.import_fixed(fix), count)
        try:
            item = clean.process(item)
        except NotArticle:
            stats.inc_value(st.IMPORT_DROPPED)
            continue
        except Exception:  # noqa: BLE001 - one record must never cost its batch
            logger.exception("line %d: cleaning failed", lineno)
            stats.inc_value(st.import_bad("error"))
            out.append((lineno, "error", None))
            continue
        kept.append(len(out))
        out.append((lineno, None, dict(vars(item))))  # a dataclass: its fields, shallow
    if kept:
        records = [out[i][2] for i in kept]
        # The matching forms of body and title serve de-duplication and the search index's form of the
        # article (:func:`search_body`), computed here rather than in the one writing process (and for
        # the whole chunk at once: one pass of numpy operations).
        forms = matching_codepoints_many([r["text"] or "" for r in records] + [r["title"] or "" for r in records])
        matching = list(zip(forms[: len(records)], forms[len(records) :]))
        for record, (body, heading) in zip(records, matching):
            record["search_body"] = search_body_of(heading[0], body[0])
        prepared = prepare_many(hasher, [r["text"] for r in records], [r["title"] for r in records], matching)
        heads = prepare_headlines(head_hasher, records) if head_hasher is not None else [None] * len(records)
        for i, prep, head in zip(kept, prepared, heads):
            out[i] = (out[i][0], None, (out[i][2], prep, head))
    return _Prepared(out), stats.get_stats()


# The two long texts of a kept record, sent apart from the rest of it (see _Prepared).
_TEXTS = ("text", "search_body")


class _Prepared(list):
    """What :func:`_prepare_chunk` returns: a list, which pickles (worker to importing process) compactly.

    The importing process, which unpickles every chunk on its one serial path, gets the same plain
    list back, at less cost: the records' texts and search forms come as one UTF-16 blob (decoded
    in one call: much faster than a UTF-8 string each), the shingles as one array (views of it,
    not an array each) and the band keys as one array (one ``tolist``, not an int opcode each).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        entries, texts, sizes, shingles, keys = [], [], [], [], []
        for lineno, reason, payload in self:
            if payload is None:
                entries.append((lineno, reason, None))
                continue
            record, (h, sh, facts, sig, ks), head = payload
            record = dict(record)
            for name in _TEXTS:
                value = record.get(name)
                if type(value) is str:
                    texts.append(value)
                    sizes.append(len(value))
                    record[name] = None
                else:
                    sizes.append(-1)  # sent as it is
            shingles.append(sh)
            keys.append(ks)
            entries.append((lineno, None, (record, (h, sh.size, facts, sig, len(ks)), head)))
        blob = "".join(texts).encode("utf-16-le", "surrogatepass")
        joined = np.concatenate(shingles).astype(np.uint32, copy=False).tobytes() if shingles else b""
        flat = np.fromiter(chain.from_iterable(keys), dtype=np.int64, count=sum(map(len, keys))).tobytes()
        return _unpack_prepared, (entries, blob, sizes, joined, flat)


def _unpack_prepared(entries: list[Any], blob: bytes, sizes: list[int], joined: bytes, flat: bytes) -> list[Any]:
    """The list :class:`_Prepared` pickled (in the importing process)."""
    text = blob.decode("utf-16-le", "surrogatepass")
    shingles = np.frombuffer(joined, dtype=np.uint32)
    keys = np.frombuffer(flat, dtype=np.int64).tolist()
    at = cut = k = n = 0
    out = []
    for lineno, reason, payload in entries:
        if payload is not None:
            record, (h, count, facts, sig, nkeys), head = payload
            for name in _TEXTS:
                size = sizes[n]
                n += 1
                if size >= 0:
                    record[name] = text[at : at + size]
                    at += size
            payload = (record, (h, shingles[cut : cut + count], facts, sig, keys[k : k + nkeys]), head)
            cut += count
            k += nkeys
        out.append((lineno, reason, payload))
    return out


def _chunks(path: Path, size: int) -> Iterator[tuple[list[tuple[int, bytes]], int]]:
    """Chunks of non-blank (line number, bytes) and the bytes read so far."""
    chunk: list[tuple[int, bytes]] = []
    done = 0
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, 1):
            done += len(line)
            if line.strip():
                chunk.append((lineno, line))
            if len(chunk) >= size:
                yield chunk, done
                chunk = []
    if chunk:
        yield chunk, done


def import_jsonl(
    path: Path, db: Database, *, site: str | None, settings: BaseSettings, progress: bool = False, workers: int | None = None,
    patterns_by_site: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Import a JSON-lines corpus; returns counts (read, stored, duplicates, dropped, bad_lines).

    Args:
        site: the source of records that name none.
        patterns_by_site: each source's ``boilerplate_patterns`` (from the sources
            file), applied to the records of that site as to its crawled pages.
        workers: processes for parsing/cleaning/shingling (default
            ``IMPORT_WORKERS`` or the CPU count, at most 4; 0 = in-process).

    Settings: ``IMPORT_BATCH_SIZE`` (records per de-duplication and write
    batch, default 1000), ``IMPORT_CHUNK_SIZE`` (lines per worker task,
    default 250), ``IMPORT_WORKERS``, ``IMPORT_WORKER_NICE`` (how much lower
    the workers' CPU priority is than the importing process's, default 10).
    """
    from crawler.dedup.clusterer import Deduplicator
    from crawler.storage.writer import ArticleWriter

    stats = CounterStats()
    # Records are prepared in chunks (small: the workers start soon and stay busy) and
    # de-duplicated and stored in batches of several chunks (large: each write
    # transaction rewrites the index pages it touches, so fewer, larger ones cost less).
    batch = max(1, settings.getint("IMPORT_BATCH_SIZE"))
    chunk = max(1, min(batch, settings.getint("IMPORT_CHUNK_SIZE")))
    # One write transaction per import batch (at least), not per 50 articles.
    store_settings = settings.copy()
    store_settings.set("STORAGE_BATCH_SIZE", max(batch, settings.getint("STORAGE_BATCH_SIZE")), priority="cmdline")
    dedup, store = Deduplicator.build(settings, stats, db), ArticleWriter.build(store_settings, stats, db)
    config, head_config = dedup.config, dedup.headlines.config if dedup.headlines else None
    if workers is None:
        workers = settings.getint("IMPORT_WORKERS")
    dedup.open()
    store.open()
    bar = click.progressbar(length=path.stat().st_size, file=sys.stderr, label="import") if progress else None
    load_tables()  # built once here and shared by the forked workers, not once in each
    pool = (
        ProcessPoolExecutor(workers, initializer=_init_pool_worker, initargs=(settings, config, head_config, patterns_by_site))
        if workers > 0 else None
    )
    # The cyclic GC, triggered by the many small objects of each batch, would scan the
    # whole heap (the thousands of pending docs) again and again: collect the young
    # generations every few batches instead, and everything every _FULL_GC_EVERY.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    batches = 0
    good: list[Any] = []
    # The articles of a batch are written on a thread of their own while the next batch is
    # de-duplicated: the driver releases the GIL while the database inserts and indexes (the
    # search index's tokenising is most of it). SQLite lets one transaction write at a time,
    # so there the de-duplication's index writes wait for the thread's, and the overlap gains
    # little (docs/benchmarks.md, import, fourth pass).
    # One write in flight, in batch order; the batch's index rows are committed before its
    # articles (as without the thread). The de-duplicator matches the next batch against the
    # copies it keeps in memory (DEDUP_PENDING_MAX, at least two batches: the one being written
    # and the one being matched), not against the articles table, so an article still being
    # written is never missed. In-process (IMPORT_WORKERS=0: debugging, tests) stays sequential.
    overlap = settings.getbool("IMPORT_OVERLAP_WRITES") and workers > 0 and dedup.pending_max >= 2 * batch
    writing: Future[Any] | None = None
    writer_thread = ThreadPoolExecutor(1, thread_name_prefix="import-writes") if overlap else None

    def run_batch() -> None:
        nonlocal batches, writing
        if good:
            records = [g[0] for g in good]
            heads = [g[2] for g in good] if dedup.headlines else None
            dedup.process_batch(records, prepared=[g[1] for g in good], headlines=heads)
            good.clear()
            # Plain dicts already: what ArticleWriter.add would queue, without
            # ItemAdapter's deep copy; flushed (with its retries) when the batch is full.
            if writing is not None:
                writing.result()  # the previous batch is stored (or its error raised here)
                writing = None
            store._pending.extend(records)
            if len(store._pending) >= store.batch_size:
                if writer_thread is not None:
                    todo, store._pending = store._pending, []
                    writing = writer_thread.submit(store.write_now, todo)
                else:
                    store.flush()
        batches += 1
        if batches % _FULL_GC_EVERY == 0:
            gc.collect()
        elif batches % _YOUNG_GC_EVERY == 0:
            gc.collect(1)

    try:
        if pool is None:
            _init_worker(settings, config, head_config, patterns_by_site)
            results: Iterator[Any] = ((_prepare_chunk(c, site), done) for c, done in _chunks(path, chunk))
        else:
            depth = 2 * workers + -(-batch // chunk)  # workers stay busy while a batch is written
            results = _ordered(pool, _chunks(path, chunk), site, depth=depth)
        for (prepared, chunk_stats), done in results:
            for key, value in chunk_stats.items():
                stats.inc_value(key, value)
            for lineno, reason, _ in prepared:
                if reason:
                    logger.warning("%s:%d: bad line (%s)", path, lineno, reason)
            good.extend(p for _, reason, p in prepared if not reason)
            stats.inc_value(st.IMPORT_READ, len(prepared))
            # The first batch goes as soon as one chunk is ready: the serial stage
            # starts while the workers are still filling the next batches.
            if len(good) >= (batch if batches else chunk):
                run_batch()
            if bar is not None:
                bar.update(done - bar.pos)
        run_batch()
        if writing is not None:
            writing.result()
    finally:
        if writer_thread is not None:
            writer_thread.shutdown(wait=True)  # a write under way ends (commits or fails) first
        if gc_was_enabled:
            gc.enable()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        store.close()
        dedup.close()
        if bar is not None:
            bar.render_finish()
    return _counts(stats)


def _ordered(pool: ProcessPoolExecutor, chunks: Iterator[Any], site: str | None, depth: int) -> Iterator[Any]:
    """Results of ``_prepare_chunk`` in file order, with at most *depth* chunks in flight."""
    queue: list[Any] = []
    for chunk, done in chunks:
        queue.append((pool.submit(_prepare_chunk, chunk, site), done))
        if len(queue) >= depth:
            fut, d = queue.pop(0)
            yield fut.result(), d
    for fut, d in queue:
        yield fut.result(), d


def _counts(stats: CounterStats) -> dict[str, Any]:
    s = stats.get_stats()
    totals = summarise(s)
    bad = stats.prefixed(st.IMPORT_BAD)
    return {
        "read": s.get(st.IMPORT_READ, 0) + s.get(st.IMPORT_DROPPED, 0),
        "stored": totals.articles_stored,
        "already_stored": totals.already_stored,
        "duplicates": totals.duplicates_merged,
        "dropped": s.get(st.IMPORT_DROPPED, 0),
        "dropped_reasons": dict(sorted(totals.dropped.items())),
        "bad_lines": sum(bad.values()),
        "bad_reasons": dict(sorted(bad.items())),
        "fixed": dict(sorted(stats.prefixed(st.IMPORT_FIXED).items())),
        "headlines": s.get(st.DEDUP_HEADLINES_SEEN, 0),
    }
