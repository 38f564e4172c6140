"""`make demo`: serve the bundled sample web on loopback, crawl it, export it, summarise."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from crawler.demo.server import WebServer
from crawler.demo.site import build_demo_site, demo_sources
from crawler.storage.export import export_corpus
from crawler.commands.report import corpus_stats
from crawler.commands.runner import project_settings, run_crawl
from crawler.storage.database import Database

logger = logging.getLogger(__name__)

# The demo talks only to its own loopback server: no delays, no throttling.
DEMO_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
}


def serve_command(db_path: Path) -> str:
    """The command that serves the demo's database, as short as it can be from here."""
    try:
        shown = db_path.relative_to(Path.cwd())
    except ValueError:
        shown = db_path
    python = ".venv/bin/python" if Path(".venv/bin/python").exists() else "python"
    return f"{python} -m crawler serve --db sqlite:///{shown}"


def run_demo(out_dir: Path) -> str:
    """Run the whole demo into *out_dir*; return the summary to print."""
    out_dir = out_dir.resolve()
    site_dir = out_dir / "site"
    if site_dir.exists():
        shutil.rmtree(site_dir)
    for stale in out_dir.glob("demo.db*"):
        stale.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = build_demo_site(site_dir)
    db_url = f"sqlite:///{out_dir / 'demo.db'}"
    sources_path = out_dir / "sources.yaml"
    with WebServer(site_dir) as web:
        sources_path.write_text(demo_sources(web), encoding="utf-8")
        settings = project_settings({**DEMO_SETTINGS, "STORAGE_URL": db_url, "SOURCES_FILE": str(sources_path)})
        summary = run_crawl(settings, str(sources_path))
    db = Database.open(db_url)
    try:
        corpus = out_dir / "corpus.jsonl"
        articles = export_corpus(db, corpus, "jsonl")
        headlines = export_corpus(db, out_dir / "headlines.jsonl", "jsonl", what="headlines")
        copies = export_corpus(db, out_dir / "all-copies.jsonl", "jsonl", all_copies=True)
        stats = corpus_stats(db, health_runs=settings.getint("RUNS_HEALTH_RUNS"),
                             min_pages=settings.getint("RUNS_HEALTH_MIN_PAGES"))
    finally:
        db.close()
    expected = manifest.get("distinct_stories", 0)
    removed = summary.boilerplate_removed
    lines = [
        summary.render(),
        "",
        "Demo corpus",
        f"  articles (one per cluster): {articles}  (the sample web has {expected} distinct stories)",
        f"  stored copies:              {copies}",
        f"  clusters:                   {stats['clusters']}",
        f"  duplicates merged:          {summary.duplicates_merged}",
        f"  headlines:                  {headlines}",
        f"  boilerplate blocks removed: {removed}",
        "",
        "Files",
        f"  corpus:     {corpus}",
        f"  headlines:  {out_dir / 'headlines.jsonl'}",
        f"  all copies: {out_dir / 'all-copies.jsonl'}",
        f"  database:   {out_dir / 'demo.db'}",
        f"  site:       {site_dir}",
        f"  sources:    {sources_path}",
        "",
        "Browse it (read-only web page: counts, search, stories side by side, headlines)",
        f"  {serve_command(out_dir / 'demo.db')}",
        "  then open http://127.0.0.1:8000/ (Ctrl-C stops it)",
    ]
    (out_dir / "summary.json").write_text(
        json.dumps({"articles": articles, "copies": copies, "clusters": stats["clusters"],
                    "duplicates_merged": summary.duplicates_merged, "headlines": headlines,
                    "boilerplate_removed": removed, "pages_fetched": summary.pages_fetched},
                   ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    return "\n".join(lines)
