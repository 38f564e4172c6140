"""`stats`: run history and source health (dead sources, redesigns), --json and --check."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from crawler.commands.cli import main
from crawler.demo.server import SiteServer
from crawler.commands.report import source_health
from crawler.storage.models import CrawlRun
from tests.support.incsite import IncSite, run_crawl

OK = {"pages_fetched": 20, "articles_stored": 10, "articles_seen": 10, "no_date": 0, "errors": 0}


def test_health_flags() -> None:
    assert source_health([]) == []
    assert source_health([OK, OK, OK]) == []
    dead = {"pages_fetched": 0, "errors": 3, "not_modified": 0}
    assert source_health([dead, dead, dead, OK]) == ["dead"]
    assert source_health([dead, dead, OK]) == []  # not all of the last 3 runs
    unchanged = {"pages_fetched": 0, "not_modified": 3, "errors": 0}
    assert source_health([unchanged] * 5) == []  # nothing new is not a failure
    empty = {"pages_fetched": 12, "errors": 0}
    assert source_health([empty] * 3) == ["no_articles"]
    known = {"pages_fetched": 3, "skipped_stored": 9}
    assert source_health([known] * 3) == []
    bodiless = {"pages_fetched": 10, "articles_seen": 1, "dropped_too_short": 6, "dropped_no_body": 3}
    assert source_health([bodiless, OK, OK]) == ["lost_bodies"]
    assert source_health([bodiless, bodiless, bodiless]) == []  # no healthy baseline to compare with
    undated = {**OK, "no_date": 9}
    assert source_health([undated, OK]) == ["lost_dates"]
    untitled = {"pages_fetched": 10, "articles_seen": 0, "dropped_no_title": 10}
    assert "lost_titles" in source_health([untitled, OK, OK])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stats_history_health_json_and_check(tmp_path: Path) -> None:
    site = IncSite(tmp_path / "site", 12)
    db = f"sqlite:///{tmp_path / 'news.db'}"
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        dead = f"http://127.0.0.1:{_free_port()}"
        with sources.open("a", encoding="utf-8") as fh:
            fh.write(f"  - name: gone\n    start_urls: [{dead}/]\n")
        assert run_crawl(sources, db).returncode == 0
        site.redesign()  # eight new articles whose bodies the extractor no longer finds
        assert run_crawl(sources, db).returncode == 0

    runner = CliRunner()
    result = runner.invoke(main, ["stats", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["articles"] == 12
    assert [r["status"] for r in data["runs"]] == ["finished", "finished"]
    assert data["health"]["gone"]["flags"] == ["dead"]
    assert data["health"]["inc"]["flags"] == ["lost_bodies"]
    assert data["flagged"] == ["gone", "inc"]

    text = runner.invoke(main, ["stats", "--db", db])
    assert text.exit_code == 0
    assert "FLAGGED: dead" in text.output and "FLAGGED: lost_bodies" in text.output
    assert "runs (newest first)" in text.output
    assert runner.invoke(main, ["stats", "--db", db, "--check"]).exit_code == 1


def test_check_passes_on_a_healthy_database(tmp_path: Path) -> None:
    site = IncSite(tmp_path / "site", 6)
    db = f"sqlite:///{tmp_path / 'news.db'}"
    with SiteServer(site.root) as server:
        assert run_crawl(site.sources(server.base_url), db).returncode == 0
    result = CliRunner().invoke(main, ["stats", "--db", db, "--check"])
    assert result.exit_code == 0, result.output
    assert "inc" in result.output and "ok" in result.output


def test_stats_health_follows_the_runs_health_settings(sqlite_db) -> None:
    """RUNS_HEALTH_RUNS (runs that must all be empty) and RUNS_HEALTH_MIN_PAGES (the
    smallest run a loss is judged on) come from the settings, overridable with -s."""
    empty = {"pages_fetched": 10, "articles_stored": 0, "articles_seen": 0, "errors": 0}
    short = {"pages_fetched": 4, "articles_stored": 0, "articles_seen": 0, "dropped_too_short": 4, "errors": 0}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [{"quiet": OK, "small": OK}, {"quiet": empty, "small": OK}, {"quiet": empty, "small": short}]  # oldest first
    with sqlite_db.begin() as s:
        for i, per_source in enumerate(runs):
            s.add(CrawlRun(started_at=start + timedelta(hours=i), finished_at=start + timedelta(hours=i, minutes=5),
                           status="finished", finish_reason="finished", per_source=per_source))
    url = sqlite_db.url

    def flags(*args: str) -> dict[str, list[str]]:
        result = CliRunner().invoke(main, ["stats", "--db", url, "--json", *args])
        assert result.exit_code == 0, result.output
        return {name: h["flags"] for name, h in json.loads(result.output)["health"].items()}

    assert flags() == {"quiet": [], "small": []}  # 3 runs, 5 pages: neither is judged
    assert flags("-s", "RUNS_HEALTH_RUNS=2") == {"quiet": ["no_articles"], "small": []}
    assert flags("-s", "RUNS_HEALTH_MIN_PAGES=4") == {"quiet": [], "small": ["lost_bodies"]}
