"""The overlap lock: one crawl per database; a second one exits 75 at once, touching nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.demo.server import SiteServer
from crawler.scheduling.lock import CrawlLock, LockHeld
from crawler.storage.models import CrawlRun
from tests.support.db import query
from tests.support.incsite import REPO, IncSite, crawl_cmd, crawl_env, run_crawl


def test_lock_is_exclusive_and_names_its_holder(db_url: str) -> None:
    first = CrawlLock(db_url).acquire()
    try:
        with pytest.raises(LockHeld) as info:
            CrawlLock(db_url).acquire()
        assert f"pid {os.getpid()}" in str(info.value)
        assert info.value.holder["pid"] == str(os.getpid())
    finally:
        first.release()
    CrawlLock(db_url).acquire().release()  # free again


def test_lock_of_a_killed_process_is_taken_over(db_url: str) -> None:
    code = ("import sys,time; from crawler.scheduling.lock import CrawlLock; lock = CrawlLock(sys.argv[1]).acquire();"
            " print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, db_url], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env=crawl_env())
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=f"pid {holder.pid}"):
            CrawlLock(db_url).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 10
        while True:  # PostgreSQL notices the dead backend within moments
            try:
                CrawlLock(db_url).acquire().release()
                break
            except LockHeld:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait()


def _runs(url: str) -> list[tuple[int, str]]:
    return query(url, select(CrawlRun.id, CrawlRun.status).order_by(CrawlRun.id))


def test_two_crawls_at_once_second_exits_75(tmp_path: Path, db_url: str) -> None:
    site = IncSite(tmp_path / "site", 10)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        # Slow enough to outlast the second process's start on a loaded machine: the run's row (what
        # the loop below waits for) is written once the engine's components are built.
        slow = crawl_cmd(sources, db_url, "-s", "DOWNLOAD_DELAY=0.4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        first = subprocess.Popen(slow, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=crawl_env())
        try:
            deadline = time.monotonic() + 30
            while not (Path(db_url.removeprefix("sqlite:///")).exists() or "postgresql" in db_url) \
                    or not _safe_runs(db_url):
                assert first.poll() is None, first.communicate()[1][-2000:]
                assert time.monotonic() < deadline
                time.sleep(0.1)
            before = server.requests
            started = time.monotonic()
            second = run_crawl(sources, db_url)
            elapsed = time.monotonic() - started
            assert second.returncode == 75, second.stderr[-2000:]
            assert f"pid {first.pid}" in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
            assert elapsed < 10
            assert len(_runs(db_url)) == 1  # the second crawl recorded nothing
            assert first.poll() is None or first.returncode == 0
            _ = before
        finally:
            out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err[-2000:]
    assert _runs(db_url) == [(1, "finished")]


def _safe_runs(url: str) -> list[tuple[int, str]]:
    try:
        return _runs(url)
    except Exception:  # noqa: BLE001 - schema not created yet
        return []


def test_lock_file_sits_next_to_the_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'news.db'}"
    with CrawlLock(url) as lock:
        assert lock.path == tmp_path / "db" / "news.db.lock"
        assert f"pid={os.getpid()}" in lock.path.read_text()
    assert lock.path.read_text() == ""


def test_scrapy_crawl_also_exits_75_touching_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: x\n    start_urls: [http://127.0.0.1:9/]\n", encoding="utf-8")
    with CrawlLock(url):
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sources={sources}", "-s", f"DATABASE_URL={url}"],
            cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 75, proc.stderr[-2000:]
    assert "lock" in proc.stderr.lower()
    assert not (tmp_path / "news.db").exists()
