"""``export --format warc``: the stored pages of exported articles as WARC/1.1 ``response`` records.

A ``warcinfo`` record comes first; then, for each exported copy that has a
stored page, one ``response`` record: ``WARC-Target-URI`` the copy's URL,
``WARC-Date`` its fetch time, the HTTP status and headers as fetched (kept
since migration 0003) and the page as payload, with its ``WARC-Payload-Digest``.
Records are gzipped one by one when the file name ends in ``.gz``.

The stored page is the body as Scrapy delivered it (content and transfer
encodings already undone), so the headers are made to describe that payload:
``Content-Length`` is its length and ``Content-Encoding`` /
``Transfer-Encoding`` are renamed ``X-Crawler-Original-...``, as are the
original length. Pages stored before headers were kept get a minimal header
(status, ``Content-Type``, ``Content-Length``) and ``X-Crawler-Http-Headers:
reconstructed`` in their WARC header block.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC
from http import HTTPStatus
from io import BytesIO
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from crawler.storage.card import parse_fetched
from crawler.storage.models import Article, RawPage

if TYPE_CHECKING:
    from crawler.storage.database import Database

_CHUNK = 200
_RENAMED = {"content-encoding", "transfer-encoding"}


def _chunks(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def _status_line(status: int | None) -> str:
    code = status or 200
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def http_header_pairs(headers: list[Any] | None, body: bytes, encoding: str | None) -> tuple[list[tuple[str, str]], bool]:
    """The HTTP headers to write for *body*; the flag says they were reconstructed."""
    if not headers:
        ctype = f"text/html; charset={encoding}" if encoding else "text/html"
        return [("Content-Type", ctype), ("Content-Length", str(len(body)))], True
    pairs: list[tuple[str, str]] = []
    for name, value in headers:
        low = str(name).lower()
        if low in _RENAMED:
            pairs.append((f"X-Crawler-Original-{name}", str(value)))
        elif low == "content-length":
            if str(value).strip() != str(len(body)):
                pairs.append(("X-Crawler-Original-Content-Length", str(value)))
        else:
            pairs.append((str(name), str(value)))
    pairs.append(("Content-Length", str(len(body))))
    return pairs, False


def write_warc(
    path: Path, db: Database, records: Iterable[dict[str, Any]], *, filename: str, gzip: bool,
    info: dict[str, str], on_written: Callable[[dict[str, Any]], None],
) -> dict[str, int]:
    """Write the pages of *records* to *path*; returns counts (response records, missing pages, reconstructed headers).

    *filename* is the final name (for ``warcinfo``), *info* its fields;
    *on_written* is called with each record whose page was written.

    Pages are looked up a chunk of records at a time (one query per chunk) and
    written one by one: memory stays bounded by the chunk.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.timeutils import datetime_to_iso_date
    from warcio.warcwriter import WARCWriter

    counts = {"response_records": 0, "pages_without_stored_html": 0, "headers_reconstructed": 0}
    with Path(path).open("wb") as fh:
        writer = WARCWriter(fh, gzip=gzip, warc_version="1.1")
        warcinfo = writer.create_warcinfo_record(filename, info)
        writer.write_record(warcinfo)
        info_id = warcinfo.rec_headers.get_header("WARC-Record-ID")
        for chunk in _chunks(records, _CHUNK):
            urls = [r["url"] for r in chunk]
            with db.session() as s:
                pages = {
                    row.url: row for row in s.execute(
                        select(Article.url, RawPage.html_zlib, RawPage.encoding, RawPage.http_status,
                               RawPage.http_headers)
                        .join(RawPage, RawPage.article_id == Article.id).where(Article.url.in_(urls))
                    )
                }
            for rec in chunk:
                page = pages.get(rec["url"])
                if page is None:
                    counts["pages_without_stored_html"] += 1
                    continue
                body = zlib.decompress(page.html_zlib)
                pairs, rebuilt = http_header_pairs(page.http_headers, body, page.encoding)
                fetched = parse_fetched(rec.get("fetched_at"))
                warc_headers = {"WARC-Warcinfo-ID": info_id}
                if fetched is not None:
                    warc_headers["WARC-Date"] = datetime_to_iso_date(
                        fetched.astimezone(UTC).replace(tzinfo=None), use_micros=True)
                if rebuilt:
                    warc_headers["X-Crawler-Http-Headers"] = "reconstructed"
                    counts["headers_reconstructed"] += 1
                http = StatusAndHeaders(_status_line(page.http_status), pairs, protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    rec["url"], "response", payload=BytesIO(body), length=len(body), http_headers=http,
                    warc_headers_dict=warc_headers,
                )
                writer.write_record(record)
                counts["response_records"] += 1
                on_written(rec)
    return counts
