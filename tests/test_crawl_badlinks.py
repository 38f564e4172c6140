"""A site whose section pages each carry one malformed link, crawled from its start pages alone (issue 10).

One bad ``href`` (``http://[bad/x``: urllib's "Invalid IPv6 URL", a port out of range, a control
character) must cost that link, never the page's other links. The web (tests/support/badlinks_web.py)
has no feeds and no sitemaps, so its articles are found only through the home page, the section pages
and their pagination; the crawl runs as users run it (``python -m crawler crawl`` in a subprocess),
once on the web with the bad links and once on the same web without them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.demo.server import WebServer
from crawler.storage.database import Database
from crawler.storage.models import Article
from crawler.urls import canonical_url
from tests.support.badlinks_web import badlinks_sources_yaml, build_badlinks_web

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "LOG_LEVEL=WARNING"]


def _crawl(tmp: Path, bad: bool) -> tuple[set[str], set[str], str, list[str]]:
    """Build, serve and crawl the web; (expected article URLs, stored URLs, summary, paths requested)."""
    manifest = build_badlinks_web(tmp / "web", bad=bad)
    if bad:
        assert manifest["poisoned"] >= 15  # every section page of every site, first pages and paginated ones
    with WebServer(tmp / "web") as server:
        sources = tmp / "sources.yaml"
        sources.write_text(badlinks_sources_yaml(server), encoding="utf-8")
        db_url = f"sqlite:///{tmp}/crawl.db"
        proc = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), "--db", db_url, *FAST],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        expected = {canonical_url(server.base_url(a["site"]) + a["path"]) for a in manifest["articles"]}
        paths = [r.path for r in server.requests]
    db = Database.open(db_url)
    try:
        with db.session() as session:
            stored = set(session.scalars(select(Article.url)))
    finally:
        db.close()
    return expected, stored, proc.stdout, paths


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[set[str], set[str], str, list[str]]]:
    return {bad: _crawl(tmp_path_factory.mktemp(f"bad{int(bad)}"), bad) for bad in (False, True)}


def test_the_control_crawl_finds_every_article(crawls: dict) -> None:
    expected, stored, _, _ = crawls[False]
    assert len(expected) >= 50
    assert expected <= stored


def test_malformed_links_cost_no_article(crawls: dict) -> None:
    expected, stored, _, _ = crawls[True]
    found = len(expected & stored)
    assert found >= 0.99 * len(expected), sorted(expected - stored)
    assert found >= len(crawls[False][0] & crawls[False][1])  # as many as without the bad links


def test_the_bad_links_are_never_requested(crawls: dict) -> None:
    _, _, _, paths = crawls[True]
    assert not any("[" in p or "99999" in p or "\x0b" in p for p in paths)
