"""The article writer: articles to the database in batches, idempotently.

Rows are keyed by the canonical URL (``ON CONFLICT DO NOTHING``), so a second
crawl of the same pages adds nothing. Each batch is one transaction holding
the articles, their compressed HTML (with the HTTP status and headers as
fetched) and the merge records of their
near-duplicates: a killed process loses at most the last unwritten batch,
which the next run fetches again. ``pipelines/store.py`` adapts it to Scrapy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from crawler.storage.bulk import insert_ignore
from crawler.items import article_record
from crawler.storage.database import Database, StorageError, compress_html, describe_url
from crawler.storage.models import Article, MergeRecord, RawPage, utcnow
from crawler import stats as st
from crawler.storage.search import index_rows
from crawler.storage.search import write_rows as write_search_rows

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.items import ArticleRecord
    from crawler.stats import StatsLike

logger = logging.getLogger(__name__)

_ARTICLE_FIELDS = (
    "url", "site", "title", "text", "published_at", "date_source", "authors", "tags",
    "attribution", "related_headlines", "lang", "fetched_at", "content_hash", "signature",
    "cluster_id",
)


def _insert_articles(session: Any, rows: list[dict[str, Any]]) -> None:
    """``insert_ignore(session, Article, rows, ["url"])``; on SQLite one driver-level ``executemany``.

    The values go through the columns' own SQLAlchemy bind processors (JSON,
    DATETIME, BLOB), so the stored bytes are the same; what is skipped is the
    per-row statement machinery, which costs more than the insert at import rates.
    *rows* all have the keys of the first one (as ``_write`` builds them).
    """
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite" or not rows:
        insert_ignore(session, Article, rows, ["url"])
        return
    table = Article.__table__
    cols = list(rows[0])
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in cols]
    todo = [(i, p) for i, p in enumerate(procs) if p is not None]
    params = []
    for row in rows:
        values = [row[c] for c in cols]
        for i, proc in todo:
            values[i] = proc(values[i])
        params.append(values)
    sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(['?'] * len(cols))}) "
           "ON CONFLICT (url) DO NOTHING")
    session.connection().exec_driver_sql(sql, [tuple(v) for v in params])


class AlreadyStored(DropItem):
    """An article whose URL is stored already, or queued earlier in this run: not stored again.

    An expected drop (logged at INFO), and not a verdict on the page: it is an
    article, the signal handlers count it as one.
    """

    def __init__(self, url: str) -> None:
        super().__init__(f"already stored: {url}", log_level="INFO")


class ArticleWriter:
    """Write articles in batches.

    Settings:
        STORAGE_URL: the SQLAlchemy database URL.
        STORAGE_BATCH_SIZE: items per write transaction (default 50).
        STORAGE_FLUSH_SECONDS: write a partial batch after this long (default 10).
        STORAGE_KEEP_RAW_HTML: keep the compressed page of each article.
        STORAGE_RETRY_TIMES: retries of a batch while the database is away
            (default 5; waits 1, 2, 4, 8, 16 s). If it stays away, the batch is
            kept pending, the crawl closes with reason ``database_unavailable``
            (exit 1) and the next run fetches what was not stored.
    """

    def __init__(
        self, db: Database, stats: StatsLike, *, batch_size: int = 50, flush_seconds: float = 10.0,
        keep_raw_html: bool = True, run_id: int | None = None, retry_times: int = 5,
        retry_wait: float = 1.0, on_unavailable: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.stats = stats
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.keep_raw_html = keep_raw_html
        self.run_id = run_id
        self.retry_times = retry_times
        self.retry_wait = retry_wait
        self.on_unavailable = on_unavailable
        self.unavailable = False
        self._pending: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._stored_q = select(Article.id).where(Article.url == bindparam("url")).limit(1)

    @classmethod
    def build(cls, settings: BaseSettings, stats: StatsLike, db: Database, run_id: int | None = None) -> Self:
        """Build from settings, outside a Scrapy crawl (``import``)."""
        if not settings.getbool("STORAGE_ENABLED"):
            raise NotConfigured("STORAGE_ENABLED is off")
        return cls(
            db,
            stats,
            batch_size=settings.getint("STORAGE_BATCH_SIZE"),
            flush_seconds=settings.getfloat("STORAGE_FLUSH_SECONDS"),
            keep_raw_html=settings.getbool("STORAGE_KEEP_RAW_HTML"),
            run_id=run_id,
            retry_times=settings.getint("STORAGE_RETRY_TIMES"),
        )

    def open(self) -> None:
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()

    def store(self, item: Any) -> ArticleRecord | None:
        """Queue *item* (as :meth:`add`); its record if it is a new article, else ``None``.

        New: its URL is neither stored nor queued earlier in this run (one
        indexed lookup). The record is returned when the item is queued, not
        when its batch is written (when ``STORAGE_BATCH_SIZE`` items are queued,
        on the first item queued ``STORAGE_FLUSH_SECONDS`` after the last write,
        or when the writer closes); the write can only be lost with the
        process (killed) or the database (``StorageError``, the crawl closing
        with ``database_unavailable``).
        """
        adapter = ItemAdapter(item)
        new = self.is_new(adapter["url"])
        self.add(item)
        return article_record(adapter) if new else None

    def is_new(self, url: str) -> bool:
        """Whether *url* is neither queued in this writer nor stored in the database."""
        if any(row["url"] == url for row in self._pending):
            return False
        try:
            with self.db.engine.connect() as conn:
                return conn.execute(self._stored_q, {"url": url}).first() is None
        except (OperationalError, InterfaceError, DisconnectionError):
            return True  # the database is away: writing the item waits for it (or closes the crawl)

    def add(self, item: Any) -> Any:
        """Queue *item* for writing; a full (or old) batch is written now."""
        self._pending.append(ItemAdapter(item).asdict())
        if self.unavailable:  # the crawl is closing: do not wait for the database again
            raise StorageError(f"database {describe_url(self.db.url)} unavailable: {item.url} not stored")
        if len(self._pending) >= self.batch_size or time.monotonic() - self._last_flush > self.flush_seconds:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the pending items, retrying while the database is away.

        Raises:
            StorageError: the database stayed away; the items stay pending.
        """
        batch, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        if batch:
            self.write_now(batch)

    def write_now(self, batch: list[dict[str, Any]]) -> set[str]:
        """Write *batch* (items as dicts) in one transaction, retrying while the database is away.

        Returns the URLs of the articles it stored (the others were stored already,
        or are a later copy of a URL of the batch).

        Raises:
            StorageError: the database stayed away; the items are left pending
                (:meth:`flush` tries them again).
        """
        for attempt in range(self.retry_times + 1):
            try:
                return self._write(batch)
            except (OperationalError, InterfaceError, DisconnectionError) as exc:
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                if attempt == self.retry_times:
                    self._pending[:0] = batch  # nothing is lost in this process
                    self.stats.inc_value(st.STORE_UNAVAILABLE)
                    message = f"database {describe_url(self.db.url)} unavailable: {reason}"
                    if not self.unavailable and self.on_unavailable is not None:
                        self.on_unavailable("database_unavailable")
                    self.unavailable = True
                    raise StorageError(message) from None
                wait = self.retry_wait * 2**attempt
                self.stats.inc_value(st.STORE_RETRIES)
                logger.warning("Database write failed (%s); retrying in %.0f s", reason, wait)
                time.sleep(wait)
        return set()

    def _write(self, batch: list[dict[str, Any]]) -> set[str]:
        """Write *batch* in one transaction; returns the URLs of the articles it stored.

        Two indexed SELECTs per batch (which URLs exist; the ids of the batch
        and of the copies it duplicates) and one cached statement per table,
        executed with many parameter sets.
        """
        now = utcnow()
        rows = []
        for item in batch:
            row = {k: item.get(k) for k in _ARTICLE_FIELDS}
            row.update(updated_at=now, run_id=self.run_id)
            row["authors"] = row["authors"] or []
            row["tags"] = row["tags"] or []
            row["related_headlines"] = row["related_headlines"] or []
            rows.append(row)
        urls = [r["url"] for r in rows]
        with self.db.begin() as session:
            existing = set(session.scalars(select(Article.url).where(Article.url.in_(urls))))
            first: dict[str, int] = {}  # the same URL twice in a batch: the first copy is stored
            for n, row in enumerate(rows):
                if row["url"] not in existing:
                    first.setdefault(row["url"], n)
            # In URL order: concurrent writers (a shared crawl) lock rows in one order (no deadlock).
            new_rows = sorted((rows[n] for n in first.values()), key=lambda r: r["url"])
            _insert_articles(session, new_rows)
            batch = [batch[n] for n in first.values()]
            dup_urls = {i["dup_of_url"] for i in batch if i.get("dup_of_url")}
            wanted = sorted(set(first) | dup_urls)
            ids = dict(session.execute(select(Article.url, Article.id).where(Article.url.in_(wanted))).all()) if wanted else {}
            # The search index of serve (titles and texts in the matching form), same transaction.
            # (``import`` brings each article's indexed form, computed in its workers, as ``search_body``.)
            bodies = {i["url"]: i["search_body"] for i in batch if i.get("search_body")}
            write_search_rows(session, index_rows({**r, "id": ids[r["url"]], "search_body": bodies.get(r["url"])}
                                                  for r in new_rows if r["url"] in ids))
            if self.keep_raw_html:
                raw = [
                    {"article_id": ids[i["url"]], "encoding": i.get("encoding"),
                     "html_zlib": compress_html(i["raw_html"]), "http_status": i.get("http_status"),
                     "http_headers": [list(h) for h in i["http_headers"]] if i.get("http_headers") else None}
                    for i in batch if i.get("raw_html") and i["url"] in ids
                ]
                raw.sort(key=lambda r: r["article_id"])  # key order, as the articles above
                insert_ignore(session, RawPage, raw, ["article_id"])
            merges = [
                {"kind": "article", "member": i["url"], "matched": i["dup_of_url"],
                 "cluster_id": i.get("cluster_id") or "", "method": i.get("dup_method") or "unknown",
                 "score": i.get("dup_score"), "config": None, "created_at": now}
                for i in batch if i.get("dup_of_url")
            ]
            links = [
                {"_id": ids[i["url"]], "_dup": ids[i["dup_of_url"]]}
                for i in batch if i.get("dup_of_url") and i["dup_of_url"] in ids and i["url"] in ids
            ]
            if links:
                table = Article.__table__
                session.execute(
                    table.update()
                    .where(table.c.id == bindparam("_id"), table.c.dup_of.is_(None))
                    .values(dup_of=bindparam("_dup")),
                    links,
                )
            if merges:
                session.execute(MergeRecord.__table__.insert(), merges)
        inserted = len(batch)
        self.stats.inc_value(st.STORE_INSERTED, inserted)
        self.stats.inc_value(st.STORE_ALREADY_STORED, len(rows) - inserted)
        for item in batch:
            self.stats.inc_value(st.source_key(item["site"], st.SourceCount.ARTICLES_STORED))
        logger.debug("Stored %d of %d articles", inserted, len(rows))
        return set(first)
