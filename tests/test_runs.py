"""Run records: every crawl is a row of crawl_runs; a dead 'running' row is marked killed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from crawler.demo.server import SiteServer
from crawler.scheduling.runs import mark_dead_runs, per_source_counts, pid_alive
from crawler.storage.database import Database
from crawler.storage.models import Article, CrawlRun
from tests.support.incsite import IncSite, run_crawl


def _add_running(db: Database, pid: int, host: str) -> int:
    with db.begin() as s:
        run = CrawlRun(started_at=datetime.now(UTC), status="running", pid=pid, host=host, pages_fetched=0,
                       articles_stored=0, duplicates_merged=0, per_source={}, errors=[], stats={})
        s.add(run)
        s.flush()
        return run.id


def test_dead_running_rows_are_marked_killed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not pid_alive(dead.pid) and pid_alive(os.getpid())
    db = Database.open(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        gone = _add_running(db, dead.pid, socket.gethostname())
        alive = _add_running(db, os.getppid(), socket.gethostname())
        elsewhere = _add_running(db, 1234567, "another-host")
        assert mark_dead_runs(db, all_running=False) == 1
        with db.session() as s:
            status = dict(s.execute(select(CrawlRun.id, CrawlRun.status)).all())
        assert status == {gone: "killed", alive: "running", elsewhere: "running"}
        assert mark_dead_runs(db, all_running=True) == 2  # the lock holder knows nobody else runs
    finally:
        db.close()


def test_per_source_counts() -> None:
    stats = {"source/a/pages_fetched": 3, "source/a/errors/TimeoutError": 1, "source/a/errors": 1,
             "store/inserted": 2}
    counts = per_source_counts(stats, {"a": {"articles_seen": 2}, "b": {"no_date": 1}})
    assert counts["a"]["pages_fetched"] == 3 and counts["a"]["errors"] == 1 and counts["a"]["articles_seen"] == 2
    assert counts["b"]["pages_fetched"] == 0 and counts["b"]["no_date"] == 1


def test_a_crawl_is_recorded(tmp_path: Path, db_url: str) -> None:
    site = IncSite(tmp_path / "site", 6)
    with SiteServer(site.root) as server:
        proc = run_crawl(site.sources(server.base_url), db_url)
        assert proc.returncode == 0, proc.stderr[-2000:]
    db = Database.open(db_url)
    try:
        with db.session() as s:
            runs = s.scalars(select(CrawlRun)).all()
            run_ids = set(s.scalars(select(Article.run_id)))
    finally:
        db.close()
    assert len(runs) == 1
    run = runs[0]
    assert (run.status, run.finish_reason, run.pid, run.host) == ("finished", "finished", run.pid, socket.gethostname())
    assert run.finished_at is not None and run.articles_stored == 6 and run.pages_fetched >= 8
    inc = run.per_source["inc"]
    assert inc["articles_stored"] == 6 and inc["articles_seen"] == 6 and inc["pages_fetched"] >= 7
    assert inc["no_date"] == 0 and inc.get("dropped_too_short", 0) >= 1  # /info/team.html
    assert run.stats["store/inserted"] == 6 and run.errors == []
    assert run_ids == {run.id}
