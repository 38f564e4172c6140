"""The dataset card written beside every export: ``<out>.card.json`` and ``<out>.card.md``.

:class:`CardFacts` watches the records as they stream into the file (counts
per site, the ``published_at`` range, copies and duplicates: constant memory);
:func:`build_card` adds what the database and the sources file know (dedup
configuration, crawl runs covered, licence notes) and the file's sha256;
:func:`render_markdown` writes the Markdown card from that same dictionary,
so the two cards can never disagree.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

import crawler
from crawler.items import iso_datetime
from crawler.storage.models import Article, CrawlRun, DedupConfigRow

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from crawler.sources import Source
    from crawler.storage.database import Database

CARD_VERSION = 1
_FORMAT_NAMES = {"jsonl": "JSON lines", "csv": "CSV", "parquet": "Parquet", "warc": "WARC/1.1"}


def parse_published(value: Any) -> tuple[datetime | None, str | None]:
    """``published_at`` as a UTC timestamp, and the original string when it says more.

    A bare date is midnight UTC, a date-time with a zone is converted to UTC;
    both keep their original string (the second value). A date-time without
    a zone is read as UTC and needs no original. A value that is not ISO 8601
    gives no timestamp and keeps its string.
    """
    if value is None or value == "":
        return None, None
    text = str(value).strip()
    if len(text) == 10:
        try:
            d = date.fromisoformat(text)
        except ValueError:
            return None, text
        return datetime(d.year, d.month, d.day, tzinfo=UTC), text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None, text
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), None
    return parsed.astimezone(UTC), text


def parse_fetched(value: Any) -> datetime | None:
    """``fetched_at`` (an ISO string of the record, or a datetime) as a UTC timestamp."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class CardFacts:
    """What the card says about the records, gathered while they are written (constant memory).

    Article records arrive ordered by cluster (as ``export.articles`` yields
    them), so clusters are counted by changes of ``cluster_id``.
    """

    def __init__(self, what: str, all_copies: bool) -> None:
        self.what = what
        self.all_copies = all_copies
        self.records = 0
        self.per_site: Counter[str] = Counter()
        self.duplicate_urls = 0
        self.clusters = 0
        self.undated = 0
        self.unparsed_dates = 0
        self.pub_min: tuple[datetime, str] | None = None
        self.pub_max: tuple[datetime, str] | None = None
        self._last_cluster: str | None = None

    def add(self, rec: dict[str, Any]) -> None:
        self.records += 1
        if self.what != "articles":
            return
        self.per_site[str(rec.get("site"))] += 1
        self.duplicate_urls += len(rec.get("duplicate_urls") or ())
        cid = rec.get("cluster_id") or None
        if cid is None or cid != self._last_cluster:
            self.clusters += 1
        self._last_cluster = cid
        raw = rec.get("published_at")
        when, _ = parse_published(raw)
        if when is None:
            if raw in (None, ""):
                self.undated += 1
            else:
                self.unparsed_dates += 1
            return
        if self.pub_min is None or when < self.pub_min[0]:
            self.pub_min = (when, str(raw))
        if self.pub_max is None or when > self.pub_max[0]:
            self.pub_max = (when, str(raw))

    def observe(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass *records* through, counting each one."""
        for rec in records:
            self.add(rec)
            yield rec

    @property
    def copies(self) -> int:
        return self.records if self.all_copies else self.records + self.duplicate_urls

    @property
    def duplicates_merged(self) -> int:
        return self.records - self.clusters if self.all_copies else self.duplicate_urls


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _runs(db: Database, filters: list[Any]) -> dict[str, Any]:
    """The crawl runs that stored the selected copies, and how many copies came from none (imports)."""
    with db.session() as s:
        counts = dict(s.execute(select(Article.run_id, func.count()).where(*filters).group_by(Article.run_id)).all())
        ids = sorted(i for i in counts if i is not None)
        rows = {r.id: r for r in s.scalars(select(CrawlRun).where(CrawlRun.id.in_(ids)))} if ids else {}
    runs = []
    for i in ids:
        run = rows.get(i)
        runs.append({
            "id": i, "copies": counts[i],
            "started_at": iso_datetime(run.started_at) if run else None,
            "finished_at": iso_datetime(run.finished_at) if run else None,
            "status": run.status if run else "unknown",
        })
    return {"runs": runs, "copies_from_no_run": counts.get(None, 0)}


def _sites(db: Database, filters: list[Any]) -> dict[str, int]:
    with db.session() as s:
        return dict(s.execute(select(Article.site, func.count()).where(*filters).group_by(Article.site)
                              .order_by(Article.site)).all())


def _licences(sites: Iterable[str], sources: list[Source] | None) -> list[dict[str, Any]]:
    by_name = {s.name: s for s in sources or ()}
    notes = []
    for site in sorted(sites):
        src = by_name.get(site)
        notes.append({
            "site": site, "in_sources_file": src is not None,
            "disallows_training": src.disallows_training if src else None,
            "licence": src.licence if src else None,
        })
    return notes


def build_card(
    db: Database, facts: CardFacts, *, path: Path, fmt: str, sha256: str, filters: list[Any],
    since: str | None, site: str | None, command: str | None, sources: list[Source] | None,
    sources_file: str | None, created_at: datetime | None = None, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The card's facts as one JSON-able dictionary (the JSON card itself)."""
    with db.session() as s:
        configs = {r.name: r.fingerprint for r in s.scalars(select(DedupConfigRow).order_by(DedupConfigRow.name))}
    per_site = dict(sorted(facts.per_site.items()))
    licence_sites = per_site if facts.what == "articles" else _sites(db, filters)
    card: dict[str, Any] = {
        "card_version": CARD_VERSION,
        "file": Path(path).name,
        "format": fmt,
        "what": facts.what,
        "command": command,
        "created_at": (created_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "filters": {"all_copies": facts.all_copies, "since": since, "site": site},
        "record_count": facts.records,
        "bytes": Path(path).stat().st_size,
        "sha256": sha256,
        "counts_per_site": per_site,
        "published_at_range": {
            "min": _iso(facts.pub_min[0]) if facts.pub_min else None,
            "max": _iso(facts.pub_max[0]) if facts.pub_max else None,
            "min_as_published": facts.pub_min[1] if facts.pub_min else None,
            "max_as_published": facts.pub_max[1] if facts.pub_max else None,
            "records_without_date": facts.undated,
            "records_with_unreadable_date": facts.unparsed_dates,
        },
        "copies_stored": facts.copies if facts.what == "articles" else None,
        "duplicates_merged": facts.duplicates_merged if facts.what == "articles" else None,
        "clusters": facts.clusters if facts.what == "articles" else None,
        "dedup_config": configs,
        "crawl_runs": _runs(db, filters),
        "sources_file": sources_file,
        "licences": _licences(licence_sites, sources),
        "project": {"name": "arabic-news-crawler", "version": crawler.__version__},
    }
    if extra:
        card.update(extra)
    return card


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


_ARTICLE_FIELD_NOTES = [
    ("url", "canonical URL of this copy"), ("site", "the source's name"), ("title", "the headline, cleaned"),
    ("text", "the article body alone, paragraphs joined by a newline; boilerplate removed"),
    ("published_at", "publication date or date-time (ISO 8601 text; a UTC timestamp in Parquet)"),
    ("authors", "by-lines"), ("tags", "the page's tags / keywords"),
    ("attribution", "the original source named on the page"),
    ("cluster_id", "stable id of the near-duplicate cluster"),
    ("duplicate_urls", "the other copies merged into this record"),
    ("fetched_at", "date-time of the fetch (UTC)"),
]
_HEADLINE_FIELD_NOTES = [
    ("headline", "one representative spelling"), ("count", "times it (or a near-duplicate) was seen"),
    ("variants", "the other spellings merged into it"), ("urls", "article URLs it points to or stands on"),
    ("cluster_id", "stable id of the headline cluster"),
]


def render_markdown(card: dict[str, Any]) -> str:
    """The Markdown card: what, where from, how made, known limits; every number from *card*."""
    what, fmt = card["what"], card["format"]
    rng = card["published_at_range"]
    licences = card["licences"]
    no_training = [n["site"] for n in licences if n["disallows_training"]]
    unknown = [n["site"] for n in licences if not n["in_sources_file"]]
    filters = card["filters"]
    unit = "WARC response records (stored pages)" if fmt == "warc" else f"{what.removesuffix('s')} records"
    lines = [
        "---",
        f"pretty_name: Arabic news corpus ({card['file']})",
        "language:\n- ar",
        "license: other  # per source: see Licence notes",
        f"record_count: {card['record_count']}",
        f"sha256: {card['sha256']}",
        "---",
        "",
        f"# Dataset card: `{card['file']}`",
        "",
        "## What it is",
        "",
        f"{card['record_count']} {unit} of Arabic news, "
        + ("every stored copy of each story" if filters["all_copies"] else "one record per near-duplicate cluster "
           "(its earliest-published copy, the other copies' URLs in `duplicate_urls`)")
        + f", as {_FORMAT_NAMES.get(fmt, fmt)}. Exported {card['created_at']} by arabic-news-crawler "
        f"{card['project']['version']}.",
        "",
        *_table(["file", "format", "records", "bytes", "sha256"],
                [[card["file"], fmt, card["record_count"], card["bytes"], f"`{card['sha256']}`"]]),
        "",
    ]
    if what == "articles":
        lines += [
            f"Published between {rng['min'] or '—'} and {rng['max'] or '—'} (UTC; as published: "
            f"{rng['min_as_published'] or '—'} and {rng['max_as_published'] or '—'}); "
            f"{rng['records_without_date']} records have no publication date"
            + (f", {rng['records_with_unreadable_date']} one that is not ISO 8601" if rng["records_with_unreadable_date"] else "")
            + ".",
            "",
        ]
    lines += ["Fields:", ""]
    notes = _ARTICLE_FIELD_NOTES if what == "articles" else _HEADLINE_FIELD_NOTES
    lines += _table(["field", "meaning"], [[f"`{f}`", m] for f, m in notes])
    if fmt == "parquet" and what == "articles":
        lines += ["", "In Parquet, `published_at` and `fetched_at` are UTC timestamps (a bare date at midnight "
                  "UTC) and `published_at_original` keeps the original text of a bare date or of a date-time "
                  "that carried a zone; lists are lists of strings."]
    if fmt == "warc":
        warc = card.get("warc") or {}
        lines += ["", "Each WARC `response` record holds the page as fetched, `WARC-Target-URI` the copy's URL, "
                  "`WARC-Date` its fetch time; a `warcinfo` record comes first. "
                  f"{warc.get('pages_without_stored_html', 0)} selected copies had no stored page; "
                  f"{warc.get('headers_reconstructed', 0)} pages were stored before HTTP headers were kept and "
                  "carry a minimal reconstructed header (`X-Crawler-Http-Headers: reconstructed`)."]
    lines += ["", "## Where it comes from", ""]
    if what == "articles":
        lines += _table(["site", "records", "disallows training", "licence"],
                        [[n["site"], card["counts_per_site"].get(n["site"], 0),
                          n["disallows_training"] if n["in_sources_file"] else "not in sources file",
                          n["licence"]] for n in licences])
    else:
        lines += ["Headline clusters span sites; the sources of the pages they were seen on:", ""]
        lines += _table(["site", "disallows training", "licence"],
                        [[n["site"], n["disallows_training"] if n["in_sources_file"] else "not in sources file",
                          n["licence"]] for n in licences])
    runs = card["crawl_runs"]
    lines += ["", f"Crawl runs covered: {len(runs['runs'])}"
              + (f"; {runs['copies_from_no_run']} copies came from no recorded crawl run (imported)" if runs["copies_from_no_run"] else "")
              + "."]
    if runs["runs"]:
        lines += [""] + _table(["run", "started", "finished", "status", "copies"],
                               [[r["id"], r["started_at"], r["finished_at"], r["status"], r["copies"]] for r in runs["runs"]])
    lines += [
        "",
        "## How it was made",
        "",
        "Pages were found through each source's feeds, sitemaps and section pages (robots.txt obeyed), "
        "the article extracted generically (lxml and the project's rules, no per-site selectors) with the boilerplate of "
        "Arabic news pages removed, and near-duplicates merged: canonical URL, exact hash of the normalised "
        "body, then MinHash LSH verified by exact Jaccard and by the numbers in the text.",
        "",
    ]
    if what == "articles":
        lines += _table(["copies stored", "duplicates merged", "clusters"],
                        [[card["copies_stored"], card["duplicates_merged"], card["clusters"]]])
        lines += [""]
    lines += ["De-duplication configuration (fingerprint of each index):", ""]
    lines += _table(["index", "fingerprint"], [[k, f"`{v}`"] for k, v in card["dedup_config"].items()] or [["—", "—"]])
    lines += ["", "Command:", "", f"    {card['command'] or '(library call)'}", "",
              f"Filters: all copies {_cell(filters['all_copies'])}, since {_cell(filters['since'])}, "
              f"site {_cell(filters['site'])}.", ""]
    lines += ["## Known limits", ""]
    lines += [
        "- Extraction and de-duplication are automatic: some boilerplate may remain, and a few copies may be "
        "merged wrongly or missed (figures in the project's docs/benchmarks.md).",
        "- `published_at` is what the page states; pages without a readable date have none.",
        "- Copies, duplicates and runs count only what the filters selected.",
        "- The text is the publishers' work: its copyright stays with them.",
    ]
    lines += ["", "## Licence notes", ""]
    if not card["sources_file"]:
        lines += ["No sources file was read: no licence notes are recorded."]
    elif no_training:
        lines += ["These sources disallow use as machine-learning training data: "
                  + ", ".join(f"`{s}`" for s in no_training) + "."]
    else:
        lines += ["No source in this export is marked `disallows_training` in the sources file."]
    if unknown and card["sources_file"]:
        lines += ["", "Not in the sources file (no notes): " + ", ".join(f"`{s}`" for s in unknown) + "."]
    return "\n".join(lines) + "\n"
