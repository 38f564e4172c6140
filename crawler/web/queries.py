"""What each page shows, each answered from indexed queries (see docs/benchmarks.md, `make bench-serve`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from crawler.commands.report import corpus_stats
from crawler.dedup.minhash import DedupConfig
from crawler.storage.database import Database
from crawler.storage.models import Article, HeadlineOccurrence, HeadlineVariant, MergeRecord
from crawler.storage.search import PROCLITICS, article_id, query_words, search_keys
from crawler.text import normalize_for_matching
from crawler.web.chart import Chart, build_chart
from crawler.web.diff import Segment, marked_words, word_diff

#: the longest window of /headlines (its cost grows with the occurrences in it: docs/benchmarks.md)
MAX_HEADLINE_DAYS = 90
#: copies of one story shown on its page; explanations computed (the rest: merge records only)
MAX_COPIES, MAX_EXPLAINED = 200, 10


def overview(db: Database, days: int = 30, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """The counts, the runs and the health (``stats --json``, or *stats*), the headline clusters and the chart."""
    data = dict(stats if stats is not None else corpus_stats(db))
    with db.session() as s:
        data["headlines"] = s.scalar(select(func.count(func.distinct(HeadlineVariant.cluster_id)))) or 0
    data["chart"] = per_day_chart(db, days)
    return data


def site_names(db: Database) -> list[str]:
    """The distinct sources of the stored articles: one index probe per source (a skip scan), not a table scan."""
    sql = text(
        "WITH RECURSIVE s(site) AS (SELECT min(site) FROM articles UNION ALL "
        "SELECT (SELECT min(site) FROM articles WHERE site > s.site) FROM s WHERE s.site IS NOT NULL) "
        "SELECT site FROM s WHERE site IS NOT NULL")
    with db.session() as s:
        return list(s.execute(sql).scalars())


def per_day_chart(db: Database, days: int = 30) -> Chart:
    """Articles per publication day per source over the *days* days up to the newest publication day.

    A range scan of the (published_at, site) index; dates after tomorrow (a
    page's wrong date) are left out.
    """
    end = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    with db.session() as s:
        newest = s.scalar(select(func.max(Article.published_at)).where(Article.published_at < end))
        if not newest:
            return build_chart({}, date.today(), date.today())
        try:
            last = date.fromisoformat(newest[:10])
        except ValueError:
            return build_chart({}, date.today(), date.today())
        first = last - timedelta(days=days - 1)
        # a corpus younger than the window: its own days (a week at least)
        oldest = s.scalar(select(func.min(Article.published_at)).where(Article.published_at >= first.isoformat()))
        try:
            first = max(first, min(date.fromisoformat(oldest[:10]), last - timedelta(days=6)))
        except (TypeError, ValueError):
            pass
        day = func.substr(Article.published_at, 1, 10)
        rows = s.execute(
            select(day, Article.site, func.count())
            .where(Article.published_at >= first.isoformat(), Article.published_at < (last + timedelta(1)).isoformat())
            .group_by(day, Article.site)
        ).all()
    return build_chart({(d, site): n for d, site, n in rows}, first, last)


@dataclass
class SearchHit:
    id: int
    key: int
    url: str
    site: str
    title: str
    published_at: str | None
    cluster_id: str | None
    excerpt: list[Segment]


@dataclass
class SearchPage:
    query: str
    site: str | None
    words: list[str]
    hits: list[SearchHit] = field(default_factory=list)
    next_before: int | None = None


def _excerpt(text: str, wanted: set[str], size: int = 320) -> list[Segment]:
    """The first paragraph with a wanted word (or the first one), cut to about *size* characters, words marked."""
    paragraphs = [p for p in (text or "").split("\n") if p.strip()] or [""]
    chosen = paragraphs[0]
    for p in paragraphs:
        if wanted & set(normalize_for_matching(p).split()):
            chosen = p
            break
    if len(chosen) > size:
        chosen = chosen[:size].rsplit(" ", 1)[0] + " …"
    return marked_words(chosen, wanted)


def search(db: Database, query: str, site: str | None = None, before: int | None = None,
           per_page: int = 20) -> SearchPage:
    """Articles whose title or text has every word of *query* (spelling variants matched), newest first."""
    words = query_words(query)
    page = SearchPage(query=query, site=site or None, words=words)
    if not words:
        return page
    wanted = set(words) | {p + w for w in words for p in PROCLITICS}
    with db.session() as s:
        keys = search_keys(s, words, site=site or None, before=before, limit=per_page + 1)
        if len(keys) > per_page:
            keys = keys[:per_page]
            page.next_before = keys[-1]
        ids = [article_id(k) for k in keys]
        rows = {r.id: r for r in s.execute(
            select(Article.id, Article.url, Article.site, Article.title, Article.text, Article.published_at,
                   Article.cluster_id).where(Article.id.in_(ids)))} if ids else {}
    for k in keys:
        r = rows.get(article_id(k))
        if r is not None:
            page.hits.append(SearchHit(r.id, k, r.url, r.site, r.title, r.published_at, r.cluster_id,
                                       _excerpt(r.text, wanted)))
    return page


@dataclass
class Copy:
    id: int
    url: str
    site: str
    title: str
    text: str
    published_at: str | None
    fetched_at: Any
    reference: bool
    title_diff: list[Segment]
    text_diff: list[Segment]
    merges: list[dict[str, Any]]
    explanation: str | None


@dataclass
class ClusterPage:
    cluster_id: str
    copies: list[Copy]
    total: int
    headlines: list[dict[str, Any]]


def cluster(db: Database, cluster_id: str, config: DedupConfig | None = None,
            explain_options: dict[str, Any] | None = None) -> ClusterPage | None:
    """Every copy of one story (the earliest published first, the reference of the marks), how each
    joined, and the headlines that point at it; None for an unknown cluster.

    Args:
        explain_options: more keyword arguments of :func:`crawler.dedup.why.explain`
            (``member_threshold``, ``max_members``: the crawl's settings).
    """
    from crawler.dedup.why import explain

    order = (Article.published_at.is_(None), Article.published_at, Article.fetched_at, Article.id)
    with db.session() as s:
        total = s.scalar(select(func.count()).where(Article.cluster_id == cluster_id)) or 0
        if not total:
            return None
        arts = s.execute(
            select(Article.id, Article.url, Article.site, Article.title, Article.text, Article.published_at,
                   Article.fetched_at).where(Article.cluster_id == cluster_id).order_by(*order).limit(MAX_COPIES)
        ).all()
        urls = [a.url for a in arts]
        merges = s.execute(
            select(MergeRecord.member, MergeRecord.matched, MergeRecord.method, MergeRecord.score,
                   MergeRecord.created_at, MergeRecord.cluster_id)
            .where(MergeRecord.kind == "article", MergeRecord.member.in_(urls))
            .order_by(MergeRecord.created_at, MergeRecord.id)
        ).all()
        heads = s.execute(
            select(HeadlineVariant.text, HeadlineVariant.cluster_id, HeadlineOccurrence.kind,
                   HeadlineOccurrence.page_url, HeadlineOccurrence.url)
            .join(HeadlineVariant, HeadlineVariant.variant == HeadlineOccurrence.variant)
            .where(HeadlineOccurrence.url.in_(urls))
            .order_by(HeadlineOccurrence.kind.desc(), HeadlineOccurrence.page_url)
            .limit(500)
        ).all()
    by_member: dict[str, list[dict[str, Any]]] = {}
    for m in merges:
        by_member.setdefault(m.member, []).append(
            {"matched": m.matched, "method": m.method, "score": m.score, "created_at": m.created_at,
             "cluster_id": m.cluster_id})
    ref = arts[0]
    copies = []
    cluster_lines: dict[str, str] = {}  # the cluster's members compared once for every explanation
    for n, a in enumerate(arts):
        is_ref = n == 0
        explanation = None
        if not is_ref and n <= MAX_EXPLAINED:
            explanation = explain(db, ref.url, a.url, config, cluster_lines=cluster_lines, **(explain_options or {}))
        copies.append(Copy(
            a.id, a.url, a.site, a.title, a.text, a.published_at, a.fetched_at, is_ref,
            [Segment("same", a.title)] if is_ref else word_diff(ref.title, a.title),
            [Segment("same", a.text)] if is_ref else word_diff(ref.text, a.text),
            by_member.get(a.url, []), explanation,
        ))
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for h in heads:
        g = grouped.setdefault((h.cluster_id, h.text), {"text": h.text, "cluster_id": h.cluster_id, "count": 0,
                                                         "pages": []})
        g["count"] += 1
        if len(g["pages"]) < 5:
            g["pages"].append({"page_url": h.page_url, "kind": h.kind})
    headlines = sorted(grouped.values(), key=lambda g: -g["count"])
    return ClusterPage(cluster_id, copies, total, headlines)


def headlines(db: Database, days: int | None = 30, limit: int = 50) -> list[dict[str, Any]]:
    """Headline clusters seen at least twice on stored pages in the last *days* days (None: ever, a full aggregate),
    most repeated first, with their spellings and all-time counts.

    The window is a range of the created_at index of the occurrences; the
    spellings of the clusters shown come from the cluster_id and variant indexes.
    """
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    with db.session() as s:
        n = func.count().label("n")
        q = (select(HeadlineVariant.cluster_id, n)
             .join(HeadlineOccurrence, HeadlineOccurrence.variant == HeadlineVariant.variant)
             .join(Article, Article.url == HeadlineOccurrence.page_url)
             .group_by(HeadlineVariant.cluster_id).having(func.count() >= 2)
             .order_by(n.desc(), HeadlineVariant.cluster_id).limit(limit))
        if since is not None:
            q = q.where(HeadlineOccurrence.created_at >= since)
        top = s.execute(q).all()
        ids = [c for c, _ in top]
        spellings = s.execute(
            select(HeadlineVariant.cluster_id, HeadlineVariant.text, func.count(HeadlineOccurrence.variant))
            .join(HeadlineOccurrence, HeadlineOccurrence.variant == HeadlineVariant.variant)
            .join(Article, Article.url == HeadlineOccurrence.page_url)
            .where(HeadlineVariant.cluster_id.in_(ids))
            .group_by(HeadlineVariant.cluster_id, HeadlineVariant.variant, HeadlineVariant.text)
        ).all() if ids else []
        stories = dict(s.execute(
            select(HeadlineVariant.cluster_id, func.min(Article.cluster_id))
            .join(HeadlineOccurrence, HeadlineOccurrence.variant == HeadlineVariant.variant)
            .join(Article, Article.url == HeadlineOccurrence.url)
            .where(HeadlineVariant.cluster_id.in_(ids))
            .group_by(HeadlineVariant.cluster_id)
        ).all()) if ids else {}
    variants: dict[str, list[tuple[str, int]]] = {}
    for cid, spelling, count in spellings:
        variants.setdefault(cid, []).append((spelling, count))
    out = []
    for cid, count in top:
        vs = sorted(variants.get(cid, []), key=lambda v: (-v[1], len(v[0]), v[0]))
        out.append({"cluster_id": cid, "count": count, "headline": vs[0][0] if vs else "",
                    "variants": vs[1:], "total": sum(c for _, c in vs), "story": stories.get(cid)})
    return out
