"""``python -m crawler export``: the corpus as JSON lines, CSV or Parquet.

Records are streamed from the database (``yield_per``; bounded memory however
large the corpus) in a stable order, so the same database always gives
byte-identical files. By default one record per near-duplicate cluster is
written: its earliest-published copy, with the other copies' URLs in
``duplicate_urls``; ``all_copies`` writes every copy. ``what="headlines"``
writes headline clusters. Files are written to a temporary name and renamed,
so a failed export never leaves a half file in place of the old one.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, or_, select

from crawler.items import ArticleRecord, article_record
from crawler.storage.models import HeadlineOccurrence, HeadlineVariant
from crawler.storage.database import Database
from crawler.storage.models import Article

logger = logging.getLogger(__name__)

#: the article record's fields, in the contract's order (``ArticleRecord``)
ARTICLE_FIELDS = [f.name for f in dataclass_fields(ArticleRecord)]
HEADLINE_FIELDS = ["headline", "count", "variants", "urls", "cluster_id"]
_LISTS = {"authors", "tags", "duplicate_urls", "variants", "urls"}
_ROW_GROUP = 10_000
_CHUNK = 500


def export_corpus(
    db: Database, out: Path, fmt: str, *, what: str = "articles", all_copies: bool = False,
    since: str | None = None, site: str | None = None, progress: bool = False,
) -> int:
    """Write the corpus to *out*; returns the number of records written.

    Raises:
        ValueError: unknown *fmt* or *what*.
    """
    if fmt not in ("jsonl", "csv", "parquet"):
        raise ValueError(f"unknown export format {fmt!r} (jsonl, csv or parquet)")
    if what not in ("articles", "headlines"):
        raise ValueError(f"unknown export kind {what!r} (articles or headlines)")
    out = Path(out)
    fields = ARTICLE_FIELDS if what == "articles" else HEADLINE_FIELDS
    total = _count(db, what, all_copies, since, site) if progress else 0
    bar = click.progressbar(length=total, file=sys.stderr, label=f"export {what}") if progress else nullcontext()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with bar as b:
            records = articles(db, all_copies, since, site) if what == "articles" else headlines(db, since, site)
            written = _WRITERS[fmt](tmp, fields, _progress(records, b))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("Exported %d %s to %s", written, what, out)
    return written


def _progress(records: Iterator[dict[str, Any]], bar: Any) -> Iterator[dict[str, Any]]:
    for rec in records:
        yield rec
        if bar is not None:
            bar.update(1)


def _filters(since: str | None, site: str | None) -> list[Any]:
    conds = []
    if since:
        conds.append(or_(Article.published_at >= since, Article.published_at.is_(None) & (Article.fetched_at >= _as_dt(since))))
    if site:
        conds.append(Article.site == site)
    return conds


def _as_dt(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--since {value!r} is not an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _count(db: Database, what: str, all_copies: bool, since: str | None, site: str | None) -> int:
    with db.session() as s:
        if what == "headlines":
            return s.scalar(select(func.count(func.distinct(HeadlineVariant.cluster_id)))) or 0
        q = select(func.count()) if all_copies else select(func.count(func.distinct(func.coalesce(Article.cluster_id, Article.url))))
        return s.scalar(q.select_from(Article).where(*_filters(since, site))) or 0


def csv_cell(value: Any) -> Any:
    """A record's value as a CSV cell: lists as JSON text, ``None`` empty (export and feeds)."""
    if isinstance(value, (list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def articles(db: Database, all_copies: bool = False, since: str | None = None, site: str | None = None) -> Iterator[dict[str, Any]]:
    """Article records in a stable order (cluster id, then earliest publication first)."""
    cols = [Article.url, Article.site, Article.title, Article.text, Article.published_at, Article.authors,
            Article.tags, Article.attribution, Article.cluster_id, Article.fetched_at]
    q = (
        select(*cols).where(*_filters(since, site))
        .order_by(func.coalesce(Article.cluster_id, Article.url), Article.published_at.is_(None),
                  Article.published_at, Article.fetched_at, Article.url)
    )
    group: list[dict[str, Any]] = []
    with db.session() as s:
        for row in s.execute(q.execution_options(yield_per=2000, stream_results=True)):
            rec = vars(article_record(row._mapping))
            if all_copies:
                yield rec
                continue
            if group and (rec["cluster_id"] != group[0]["cluster_id"] or not rec["cluster_id"]):
                yield group[0]
                group = []
            if group:
                group[0]["duplicate_urls"].append(rec["url"])
            else:
                group = [rec]
    if group:
        yield group[0]


def headlines(db: Database, since: str | None = None, site: str | None = None) -> Iterator[dict[str, Any]]:
    """Headline cluster records ordered by cluster id; only occurrences on stored pages count."""
    last = ""
    with db.session() as s:
        while True:
            ids = list(s.scalars(
                select(HeadlineVariant.cluster_id).distinct().where(HeadlineVariant.cluster_id > last)
                .order_by(HeadlineVariant.cluster_id).limit(_CHUNK)
            ))
            if not ids:
                return
            last = ids[-1]
            q = (
                select(HeadlineVariant.cluster_id, HeadlineVariant.text, HeadlineOccurrence.url)
                .join(HeadlineOccurrence, HeadlineOccurrence.variant == HeadlineVariant.variant)
                .join(Article, Article.url == HeadlineOccurrence.page_url)
                .where(HeadlineVariant.cluster_id.in_(ids), *_filters(since, site))
            )
            clusters: dict[str, tuple[dict[str, int], set[str]]] = {}
            for cid, text, url in s.execute(q):
                counts, urls = clusters.setdefault(cid, ({}, set()))
                counts[text] = counts.get(text, 0) + 1
                if url:
                    urls.add(url)
            for cid in ids:
                if cid not in clusters:
                    continue
                counts, urls = clusters[cid]
                spellings = sorted(counts, key=lambda t: (-counts[t], len(t), t))
                yield {
                    "headline": spellings[0], "count": sum(counts.values()), "variants": spellings[1:],
                    "urls": sorted(urls), "cluster_id": cid,
                }


def _write_jsonl(path: Path, fields: list[str], records: Iterator[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_csv(path: Path, fields: list[str], records: Iterator[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for rec in records:
            writer.writerow([csv_cell(rec[f]) for f in fields])
            n += 1
    return n


def _write_parquet(path: Path, fields: list[str], records: Iterator[dict[str, Any]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {f: pa.list_(pa.string()) if f in _LISTS else pa.string() for f in fields}
    types["count"] = pa.int64()
    schema = pa.schema([(f, types[f]) for f in fields])
    n = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        buf: list[dict[str, Any]] = []
        for rec in records:
            buf.append(rec)
            if len(buf) >= _ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(buf, schema=schema))
                n += len(buf)
                buf = []
        if buf or n == 0:
            writer.write_table(pa.Table.from_pylist(buf, schema=schema))
            n += len(buf)
    return n


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}
