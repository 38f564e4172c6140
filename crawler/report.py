"""`python -m crawler stats`: what the database holds, per source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from crawler.storage import Article, Database


def corpus_stats(db: Database) -> dict[str, Any]:
    """Counts of the stored corpus: articles, clusters, duplicates, per site."""
    with db.session() as s:
        total = s.scalar(select(func.count(Article.id))) or 0
        clusters = s.scalar(select(func.count(func.distinct(Article.cluster_id)))) or 0
        per_site = {
            site: {"articles": n, "last_fetched": last.isoformat() if last else None}
            for site, n, last in s.execute(
                select(Article.site, func.count(Article.id), func.max(Article.fetched_at))
                .group_by(Article.site)
                .order_by(Article.site)
            )
        }
    return {
        "database": db.engine.url.render_as_string(hide_password=True),
        "articles": total,
        "clusters": clusters,
        "duplicates": max(total - clusters, 0) if clusters else 0,
        "sites": per_site,
    }


def render_stats(data: dict[str, Any]) -> str:
    lines = [
        f"database:   {data['database']}",
        f"articles:   {data['articles']}",
        f"clusters:   {data['clusters']}",
        f"duplicates: {data['duplicates']}",
        "per source:",
    ]
    for site, info in data["sites"].items():
        lines.append(f"  {site:<24} {info['articles']:>8}  last fetched {info['last_fetched']}")
    return "\n".join(lines)
