"""Crash safety: SIGKILL mid-run then re-run (complete, no duplicates); SIGTERM stops gracefully."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import select

from crawler.demo.server import SiteServer
from crawler.storage.models import Article, CrawlRun
from tests.support.db import query
from tests.support.incsite import REPO, IncSite, article_paths, crawl_cmd, crawl_env, run_crawl

N = 24
SLOW = ("-s", "DOWNLOAD_DELAY=0.12", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "STORAGE_BATCH_SIZE=4")


def _stored(url: str) -> list[str]:
    try:
        return [u for (u,) in query(url, select(Article.url))]
    except Exception:  # noqa: BLE001 - polled before the crawl created the database
        return []


def _runs(url: str) -> list[tuple[str, str | None]]:
    return query(url, select(CrawlRun.status, CrawlRun.finish_reason).order_by(CrawlRun.id))


def _start_and_wait(sources: Path, url: str, at_least: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(crawl_cmd(sources, url, *SLOW), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=crawl_env())
    deadline = time.monotonic() + 40
    while len(_stored(url)) < at_least:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the crawl stored nothing in time"
        time.sleep(0.05)
    return proc


def test_sigkill_mid_run_then_rerun_completes_without_duplicates(tmp_path: Path, db_url: str) -> None:
    site = IncSite(tmp_path / "site", N)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        proc = _start_and_wait(sources, db_url, 4)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        before = {u.rsplit("/", 1)[-1] for u in _stored(db_url)}
        assert 4 <= len(before) < N
        assert _runs(db_url) == [("running", None)]

        server.reset_requests()
        rerun = run_crawl(sources, db_url)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        fetched = {p.rsplit("/", 1)[-1] for p in article_paths(server.requests)}
        assert fetched.isdisjoint(before)  # nothing stored is fetched again
        assert fetched | before == {f"{i}.html" for i in range(N)}

    urls = _stored(db_url)
    assert len(urls) == len(set(urls)) == N
    assert _runs(db_url) == [("killed", "killed"), ("finished", "finished")]


def test_sigterm_stops_gracefully_saving_what_was_fetched(tmp_path: Path, db_url: str) -> None:
    site = IncSite(tmp_path / "site", N)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        proc = _start_and_wait(sources, db_url, 1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err[-2000:]
        assert "Crawl shutdown" in out
        ok = {r.path for r in server.requests if r.path.startswith("/news/") and r.status == 200}
        stored = {u.split("/", 3)[-1] for u in _stored(db_url)}
        # every article page answered before the stop is stored (the pending batch was flushed)
        assert len({p.lstrip("/") for p in ok} - stored) <= 1  # at most the page in flight
        assert 1 <= len(stored) < N
        assert _runs(db_url) == [("finished", "shutdown")]
        rerun = run_crawl(sources, db_url)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
    urls = _stored(db_url)
    assert len(urls) == len(set(urls)) == N
