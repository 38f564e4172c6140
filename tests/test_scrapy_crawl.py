"""`scrapy crawl news -a sources=FILE -s DATABASE_URL=URL` is the same crawl as `python -m crawler crawl`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from crawler.demo.server import SiteServer
from crawler.storage.database import Database
from crawler.storage.models import Article
from tests.support.incsite import FAST, REPO, IncSite, crawl_env, run_crawl


def stored(url: str) -> set[tuple[str, str]]:
    db = Database.open(url)
    try:
        with db.session() as s:
            return {(a.url.rsplit("/", 1)[-1], a.title) for a in s.scalars(select(Article))}
    finally:
        db.close()


def test_scrapy_crawl_matches_the_cli(tmp_path: Path) -> None:
    site = IncSite(tmp_path / "site", 8)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        via_cli = f"sqlite:///{tmp_path / 'cli.db'}"
        assert run_crawl(sources, via_cli).returncode == 0
        via_scrapy = f"sqlite:///{tmp_path / 'scrapy.db'}"
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sources={sources}",
             "-s", f"DATABASE_URL={via_scrapy}", *FAST],
            cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(stored(via_cli)) == 8
    assert stored(via_scrapy) == stored(via_cli)
