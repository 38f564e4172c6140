"""The search index of stored articles: their titles and texts in the matching form.

``serve`` searches titles and texts so that Arabic spelling variants match
(hamza seats, alef forms, ta marbuta / ha, ya / alef maqsura, diacritics,
tatweel): both the stored text and the query are folded by
:func:`crawler.text.normalize_for_matching`, and the index holds only the
folded words. The folded form is never shown nor exported.

SQLite: a contentless FTS5 table ``article_search(site, body)``; PostgreSQL: a
table ``article_search(sort_key, site, terms text[])`` with a GIN index on
the words. Both are keyed by a *sort key*: the publication day (the fetch day
when the date is unknown) in the high 32 bits and the article id in the low
32, so "newest first" is a walk of the index backwards, and pages continue
from the last key shown (``before``), never by OFFSET.

Rows are written by :class:`crawler.storage.writer.ArticleWriter` with the
articles, and for articles stored before the index existed by the migration
that created it (0004). Articles are never rewritten in place; a key whose
article is gone simply finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from crawler.text import matching_codepoints, normalize_for_matching

__all__ = [
    "ID_BITS", "Hit", "article_id", "index_rows", "query_words", "search_body", "search_keys", "sort_key",
    "write_rows",
]

ID_BITS = 32
_ID_MASK = (1 << ID_BITS) - 1
_EPOCH = date(1970, 1, 1)

#: Proclitics written onto an Arabic word (and, with, for, the ...), in the
#: matching form: a query word also finds the word carrying one of them.
PROCLITICS = ("ال", "و", "وال", "ب", "بال", "ل", "لل", "ف", "فال", "ك")

#: the most words of one query that are used (the rest are ignored)
MAX_WORDS = 8


def _day(value: Any) -> int:
    """Days since 1970 of an ISO date(-time) string or a datetime; 0 when unreadable."""
    if isinstance(value, datetime):
        return max((value.date() - _EPOCH).days, 0)
    if isinstance(value, str) and len(value) >= 10:
        try:
            return max((date.fromisoformat(value[:10]) - _EPOCH).days, 0)
        except ValueError:
            return 0
    return 0


def sort_key(article_id: int, published_at: str | None, fetched_at: Any) -> int:
    """The index key of an article: (publication day, else fetch day) << 32 | id."""
    day = _day(published_at) or _day(fetched_at) or _day(datetime.now(UTC))
    return (min(day, 2**30) << ID_BITS) | (article_id & _ID_MASK)


def article_id(key: int) -> int:
    return key & _ID_MASK


def _body(title: str | None, body: str | None) -> str:
    """The matching form of title and text (the table-driven path of crawler.text: the same string)."""
    return matching_codepoints(f"{title or ''}\n{body or ''}")[0]


def search_body_of(title_matching: str, body_matching: str) -> str:
    """:func:`search_body` from the matching forms of title and text, when the caller has them.

    The matching form maps each character alone and makes every run of spaces one: the
    title's and the text's forms joined by one space (the line break between them) are the
    form of the two joined (checked on both shared corpora and in the tests).
    """
    return f"{title_matching} {body_matching}" if title_matching and body_matching else title_matching or body_matching


def search_body(title: str | None, text: str | None) -> str:
    """What the index holds of an article: :func:`index_rows` takes it precomputed as ``search_body``
    (``import`` computes it in its worker processes, off the one process that writes)."""
    return _body(title, text)


def index_rows(articles: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Index rows of articles given as dicts with id, site, title, text, published_at, fetched_at
    (and optionally ``search_body``, from :func:`search_body` of the same title and text)."""
    return [
        {"key": sort_key(a["id"], a.get("published_at"), a.get("fetched_at")), "site": a["site"] or "",
         "body": a.get("search_body") or _body(a.get("title"), a.get("text"))}
        for a in articles
    ]


def write_rows(connection: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert index rows (from :func:`index_rows`) on *connection* (a Connection or Session)."""
    if not rows:
        return
    dialect = (connection.get_bind() if hasattr(connection, "get_bind") else connection).dialect.name
    if dialect == "sqlite":
        # Driver level: the statement machinery per row would cost more than building the
        # row's tuple (the tokenising is SQLite's, on this thread, without the GIL).
        conn = connection.connection() if hasattr(connection, "get_bind") else connection
        conn.exec_driver_sql("INSERT INTO article_search (rowid, site, body) VALUES (?, ?, ?)",
                             [(r["key"], r["site"], r["body"]) for r in rows])
    elif dialect == "postgresql":
        connection.execute(
            text("INSERT INTO article_search (sort_key, site, terms) VALUES (:key, :site, :terms) "
                 "ON CONFLICT (sort_key) DO NOTHING"),
            [{"key": r["key"], "site": r["site"], "terms": sorted(set(r["body"].split()))} for r in rows],
        )


def query_words(query: str) -> list[str]:
    """The words of a query in the matching form (at most :data:`MAX_WORDS`, duplicates dropped)."""
    return list(dict.fromkeys(normalize_for_matching(query).split()))[:MAX_WORDS]


def _variants(word: str) -> list[str]:
    """*word* and the word with each proclitic (a query of المدرسة already names its article)."""
    return [word] + [p + word for p in PROCLITICS if not word.startswith(p)]


@dataclass(frozen=True)
class Hit:
    key: int

    @property
    def article_id(self) -> int:
        return article_id(self.key)


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def search_keys(session: Any, words: list[str], *, site: str | None = None, before: int | None = None,
                limit: int = 20) -> list[int]:
    """Sort keys of the articles whose title or text has every word, newest first.

    Each query word matches itself or itself with a proclitic (:data:`PROCLITICS`).
    One indexed query: FTS5 ``MATCH`` walked by rowid backwards on SQLite, a GIN
    ``&&`` per word with the sort key's order on PostgreSQL.
    """
    if not words:
        return []
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"limit": limit}
    if dialect == "sqlite":
        groups = ["(" + " OR ".join(_fts_phrase(v) for v in _variants(w)) + ")" for w in words]
        match = "body : (" + " AND ".join(groups) + ")"
        if site:
            match = f"site : {_fts_phrase(site)} AND {match}"
        params["match"] = match
        where = "article_search MATCH :match"
        if before is not None:
            where += " AND rowid < :before"
            params["before"] = before
        sql = f"SELECT rowid FROM article_search WHERE {where} ORDER BY rowid DESC LIMIT :limit"
    elif dialect == "postgresql":
        conds = []
        for i, w in enumerate(words):
            conds.append(f"terms && CAST(:w{i} AS text[])")
            params[f"w{i}"] = _variants(w)
        if site:
            conds.append("site = :site")
            params["site"] = site
        if before is not None:
            conds.append("sort_key < :before")
            params["before"] = before
        sql = f"SELECT sort_key FROM article_search WHERE {' AND '.join(conds)} ORDER BY sort_key DESC LIMIT :limit"
    else:
        return []
    return [int(k) for k in session.execute(text(sql), params).scalars()]


# --- schema (used by migration 0004) -----------------------------------------

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE article_search USING fts5(site, body, content='', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\")"
)
POSTGRES_DDL = (
    "CREATE TABLE article_search (sort_key BIGINT PRIMARY KEY, site VARCHAR(64) NOT NULL, terms TEXT[] NOT NULL)",
    "CREATE INDEX ix_article_search_terms ON article_search USING gin (terms)",
    "CREATE INDEX ix_article_search_site_key ON article_search (site, sort_key)",
)


def create_index(connection: Any) -> None:
    """Create the empty search table of *connection*'s dialect."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(SQLITE_DDL)
    elif connection.dialect.name == "postgresql":
        for ddl in POSTGRES_DDL:
            connection.exec_driver_sql(ddl)


def backfill(connection: Any, chunk: int = 2000) -> int:
    """Index every stored article (in id order, *chunk* at a time); returns how many."""
    last, done = 0, 0
    while True:
        rows = connection.execute(
            text("SELECT id, site, title, text, published_at, fetched_at FROM articles WHERE id > :last "
                 "ORDER BY id LIMIT :chunk"), {"last": last, "chunk": chunk},
        ).mappings().all()
        if not rows:
            return done
        write_rows(connection, index_rows(dict(r) for r in rows))
        last, done = rows[-1]["id"], done + len(rows)
