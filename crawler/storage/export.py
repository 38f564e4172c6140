"""``python -m crawler export``: the corpus as JSON lines, CSV, typed Parquet or WARC, with a dataset card.

Records are streamed from the database (``yield_per``; bounded memory however
large the corpus) in a stable order, so the same database always gives
byte-identical files. By default one record per near-duplicate cluster is
written: its earliest-published copy, with the other copies' URLs in
``duplicate_urls``; ``all_copies`` writes every copy. ``what="headlines"``
writes headline clusters. Files are written to a temporary name and renamed,
so a failed export never leaves a half file in place of the old one.

Parquet is typed (:func:`typed_article`): ``published_at`` and ``fetched_at``
are UTC timestamps, lists are lists of strings, and ``published_at_original``
keeps the original text of a bare date or of a date-time with a zone; it is
written a row group at a time. ``warc`` writes the stored pages of the
exported copies (``crawler/storage/warc.py``). Every export writes its
dataset card beside it, ``<out>.card.json`` and ``<out>.card.md``
(``crawler/storage/card.py``), renamed into place after the file itself.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import func, or_, select

from crawler.items import ArticleRecord, article_record
from crawler.storage.card import CardFacts, build_card, parse_fetched, parse_published, render_markdown, sha256_file
from crawler.storage.database import Database
from crawler.storage.models import Article, HeadlineOccurrence, HeadlineVariant

if TYPE_CHECKING:
    from crawler.sources import Source

logger = logging.getLogger(__name__)

#: the article record's fields, in the contract's order (``ArticleRecord``)
ARTICLE_FIELDS = [f.name for f in dataclass_fields(ArticleRecord)]
HEADLINE_FIELDS = ["headline", "count", "variants", "urls", "cluster_id"]
#: Parquet only: the original text of ``published_at`` (see :func:`typed_article`).
PARQUET_EXTRA_FIELDS = ["published_at_original"]
FORMATS = ("jsonl", "csv", "parquet", "warc")
_LISTS = {"authors", "tags", "duplicate_urls", "variants", "urls"}
_ROW_GROUP = 10_000  # Parquet: at most this many records per row group ...
_ROW_GROUP_CHARS = 8_000_000  # ... and about this many characters of text (bounds memory, whatever the article size)
_CHUNK = 500


def export_corpus(
    db: Database, out: Path, fmt: str, *, what: str = "articles", all_copies: bool = False,
    since: str | None = None, site: str | None = None, progress: bool = False,
    sources: Sequence[Source] | None = None, sources_file: str | None = None, command: str | None = None,
) -> int:
    """Write the corpus to *out*, and its dataset card beside it; returns the number of records written.

    Args:
        sources: the sources file's entries, for the card's licence notes.
        sources_file: its path, as the card names it (None: no file read).
        command: the command line, as the card records it (default: built from the arguments).

    Raises:
        ValueError: unknown *fmt* or *what*, or ``warc`` of headlines.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (jsonl, csv, parquet or warc)")
    if what not in ("articles", "headlines"):
        raise ValueError(f"unknown export kind {what!r} (articles or headlines)")
    if fmt == "warc" and what != "articles":
        raise ValueError("--format warc writes the stored pages of articles, not headlines")
    out = Path(out)
    fields = ARTICLE_FIELDS if what == "articles" else HEADLINE_FIELDS
    total = _count(db, what, all_copies, since, site) if progress else 0
    bar = click.progressbar(length=total, file=sys.stderr, label=f"export {what}") if progress else nullcontext()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    cards = [out.with_name(out.name + ".card.json"), out.with_name(out.name + ".card.md")]
    card_tmps = [p.with_name(f".{p.name}.tmp-{os.getpid()}") for p in cards]
    facts = CardFacts(what, all_copies)
    extra: dict[str, Any] = {}
    try:
        with bar as b:
            records = articles(db, all_copies, since, site) if what == "articles" else headlines(db, since, site)
            if fmt == "warc":
                from crawler.storage.warc import write_warc

                extra["warc"] = write_warc(
                    tmp, db, _progress(records, b), filename=out.name, gzip=out.name.endswith(".gz"),
                    info=_warcinfo(command or _command(out, fmt, what, all_copies, since, site, sources_file)),
                    on_written=facts.add)
                written = facts.records
            else:
                written = _WRITERS[fmt](tmp, fields, _progress(facts.observe(records), b))
        card = build_card(
            db, facts, path=tmp, fmt=fmt, sha256=sha256_file(tmp), filters=_filters(since, site), since=since,
            site=site, command=command or _command(out, fmt, what, all_copies, since, site, sources_file),
            sources=list(sources) if sources is not None else None, sources_file=sources_file, extra=extra)
        card["file"] = out.name
        card_tmps[0].write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        card_tmps[1].write_text(render_markdown(card), encoding="utf-8")
        os.replace(tmp, out)
        for src, dst in zip(card_tmps, cards, strict=True):
            os.replace(src, dst)
    finally:
        tmp.unlink(missing_ok=True)
        for p in card_tmps:
            p.unlink(missing_ok=True)
    logger.info("Exported %d %s to %s (card: %s)", written, what, out, cards[0].name)
    return written


def _command(out: Path, fmt: str, what: str, all_copies: bool, since: str | None, site: str | None,
             sources_file: str | None) -> str:
    """The ``export`` command line that gives this file (``--db`` left out: it may hold a password)."""
    args = ["python", "-m", "crawler", "export", "--format", fmt, "--out", str(out)]
    if what != "articles":
        args += ["--what", what]
    if all_copies:
        args.append("--all-copies")
    if since:
        args += ["--since", since]
    if site:
        args += ["--site", site]
    if sources_file:
        args += ["--sources", sources_file]
    return shlex.join(args)


def _warcinfo(command: str) -> dict[str, str]:
    import crawler

    try:
        from importlib.metadata import version

        warcio = f" (warcio {version('warcio')})"
    except Exception:  # noqa: BLE001 - only a label
        warcio = ""
    return {
        "software": f"arabic-news-crawler {crawler.__version__}{warcio}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": f"Stored pages of exported Arabic news articles: {command}",
        "robots": "obey",
    }


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


def typed_article(rec: dict[str, Any]) -> dict[str, Any]:
    """An article record for typed Parquet: UTC timestamps, and ``published_at_original``."""
    row = dict(rec)
    row["published_at"], row["published_at_original"] = parse_published(rec.get("published_at"))
    row["fetched_at"] = parse_fetched(rec.get("fetched_at"))
    return row


def parquet_schema(fields: list[str]) -> Any:
    """The Parquet schema of *fields*: lists of strings, integer counts, UTC timestamps for article dates."""
    import pyarrow as pa

    types = {f: pa.list_(pa.string()) if f in _LISTS else pa.string() for f in fields}
    types["count"] = pa.int64()
    if fields == ARTICLE_FIELDS:
        fields = fields + PARQUET_EXTRA_FIELDS
        types["published_at"] = types["fetched_at"] = pa.timestamp("us", tz="UTC")
        types["published_at_original"] = pa.string()
    return pa.schema([(f, types[f]) for f in fields])


def _write_parquet(path: Path, fields: list[str], records: Iterator[dict[str, Any]]) -> int:
    """Write row groups of ``_ROW_GROUP`` records or ``_ROW_GROUP_CHARS`` characters, whichever comes first.

    Only one group is ever held in memory (peak RSS grows with the group's
    size, not with the corpus: docs/benchmarks.md). Records are buffered
    column by column (``Table.from_pydict``); only the site column is
    dictionary-encoded (long texts gain nothing from it).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(fields)
    names = schema.names
    typed = fields == ARTICLE_FIELDS
    n = 0
    dictionary = [f for f in ("site",) if f in names] or False
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=dictionary) as writer:
        cols: dict[str, list[Any]] = {f: [] for f in names}
        size = chars = 0
        for rec in records:
            row = typed_article(rec) if typed else rec
            for f in names:
                value = row.get(f)
                cols[f].append(value)
                if isinstance(value, str):
                    chars += len(value)
            size += 1
            if size >= _ROW_GROUP or chars >= _ROW_GROUP_CHARS:
                writer.write_table(pa.Table.from_pydict(cols, schema=schema))
                n += size
                cols, size, chars = {f: [] for f in names}, 0, 0
        if size or n == 0:
            writer.write_table(pa.Table.from_pydict(cols, schema=schema))
            n += size
    return n


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}
