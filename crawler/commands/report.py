"""`python -m crawler stats`: what the database holds, the run history, each source's health.

Health is read from the per-source counts that :mod:`crawler.scheduling.runs` records
for every run. A source is flagged when

``dead``
    its last runs fetched nothing and failed;
``no_articles``
    its last runs fetched pages but found no article at all (none stored, none
    already known, no unchanged feed) -- links or pages no longer recognised;
``lost_bodies`` / ``lost_titles`` / ``lost_dates``
    in its last run most candidate pages lost their body or title (dropped as
    ``too_short``/``no_body``/``no_title``) or most stored articles have no
    date, while the earlier runs were fine: a site redesign.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from crawler.storage.database import Database
from crawler.storage.models import Article, CrawlRun

#: (flag, numerator counts, denominator) of the redesign checks
_LOSS_CHECKS = (
    ("lost_bodies", ("dropped_too_short", "dropped_no_body"), "candidates"),
    ("lost_titles", ("dropped_no_title",), "candidates"),
    ("lost_dates", ("no_date",), "articles_seen"),
)


def _ratio(counts: dict[str, Any], keys: tuple[str, ...], denominator: str) -> tuple[float, int]:
    total = int(counts.get(denominator, 0) or 0)
    if denominator == "candidates":
        total = int(counts.get("articles_seen", 0) or 0) + sum(
            int(counts.get(k, 0) or 0) for k in ("dropped_too_short", "dropped_no_body", "dropped_no_title"))
    part = sum(int(counts.get(k, 0) or 0) for k in keys)
    return (part / total if total else 0.0), total


def _found(counts: dict[str, Any]) -> int:
    keys = ("articles_stored", "articles_seen", "skipped_stored", "not_modified")
    return sum(int(counts.get(k, 0) or 0) for k in keys)


def source_health(history: list[dict[str, Any]], *, last_runs: int = 3, min_pages: int = 5,
                  loss: float = 0.5, baseline_loss: float = 0.2) -> list[str]:
    """The flags of one source from its per-run counts, newest run first."""
    if not history:
        return []
    recent = history[:last_runs]
    flags = []
    if all(int(c.get("pages_fetched", 0) or 0) == 0 and int(c.get("not_modified", 0) or 0) == 0
           and int(c.get("errors", 0) or 0) > 0 for c in recent):
        flags.append("dead")
    elif all(_found(c) == 0 for c in recent):
        flags.append("no_articles")
    latest, earlier = history[0], history[1:11]
    for flag, keys, denominator in _LOSS_CHECKS:
        share, total = _ratio(latest, keys, denominator)
        if total < min_pages or share < loss:
            continue
        base_part = base_total = 0.0
        for counts in earlier:
            s, t = _ratio(counts, keys, denominator)
            base_part += s * t
            base_total += t
        if base_total >= min_pages and base_part / base_total < baseline_loss:
            flags.append(flag)
    return flags


def run_history(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """The last *limit* runs, newest first."""
    with db.session() as s:
        rows = s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).all()
    out = []
    for r in rows:
        seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at and r.started_at else None
        out.append({
            "id": r.id, "started_at": r.started_at.isoformat() if r.started_at else None,
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "seconds": round(seconds, 1) if seconds is not None else None,
            "status": r.status, "finish_reason": r.finish_reason, "pid": r.pid, "host": r.host,
            "pages_fetched": r.pages_fetched, "articles_stored": r.articles_stored,
            "duplicates_merged": r.duplicates_merged, "errors": len(r.errors or []),
            "per_source": r.per_source or {},
        })
    return out


def corpus_stats(db: Database, runs: int = 10, *, health_runs: int, min_pages: int) -> dict[str, Any]:
    """Counts of the stored corpus, the run history and the health of each source.

    *health_runs* and *min_pages* are the ``RUNS_HEALTH_RUNS`` and ``RUNS_HEALTH_MIN_PAGES``
    settings (see :func:`source_health`).
    """
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
    history = run_history(db, limit=max(runs, 11 + health_runs))
    done = [r for r in history if r["status"] != "running"]
    names = sorted({n for r in done for n in r["per_source"]} | set(per_site))
    health = {}
    for name in names:
        counts = [r["per_source"][name] for r in done if name in r["per_source"]]
        last = counts[0] if counts else {}
        health[name] = {
            "flags": source_health(counts, last_runs=health_runs, min_pages=min_pages),
            "runs": len(counts),
            "last_run": {k: last.get(k, 0) for k in ("pages_fetched", "articles_stored", "skipped_stored",
                                                      "not_modified", "dropped", "errors")},
        }
    return {
        "database": db.engine.url.render_as_string(hide_password=True),
        "articles": total,
        "clusters": clusters,
        "duplicates": max(total - clusters, 0) if clusters else 0,
        "sites": per_site,
        "runs": [{k: v for k, v in r.items() if k != "per_source"} for r in history[:runs]],
        "health": health,
        "flagged": sorted(n for n, h in health.items() if h["flags"]),
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
    if data.get("runs"):
        lines.append("runs (newest first):    id  status    reason        seconds  fetched  stored  errors")
        for r in data["runs"]:
            secs = f"{r['seconds']:.0f}" if r["seconds"] is not None else "-"
            lines.append(f"  {(r['started_at'] or '')[:19]:<20} {r['id']:>4}  {r['status']:<9} "
                         f"{(r['finish_reason'] or '-'):<13} {secs:>7} {r['pages_fetched']:>8} "
                         f"{r['articles_stored']:>7} {r['errors']:>7}")
    if data.get("health"):
        lines.append("health (last run: fetched / stored / known / 304 / dropped / errors):")
        for name, h in data["health"].items():
            lr = h["last_run"]
            state = "FLAGGED: " + ", ".join(h["flags"]) if h["flags"] else "ok"
            lines.append(f"  {name:<24} {lr['pages_fetched']:>5} {lr['articles_stored']:>5} {lr['skipped_stored']:>5}"
                         f" {lr['not_modified']:>4} {lr['dropped']:>5} {lr['errors']:>4}  {state}")
    return "\n".join(lines)
