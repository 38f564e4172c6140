"""End to end: one crawl of a multi-site fixture web served on loopback.

The web (tests/support/fixture_web.py) has feeds, sitemap indexes, gzip and news
sitemaps, paginated sections, non-article pages, a calendar trap, a
robots-disallowed page, a windows-1256 site and syndicated copies. The crawl
runs as users run it: ``python -m crawler crawl`` in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from crawler.demo.server import WebServer
from crawler.storage.database import Database
from crawler.storage.models import Article
from crawler.text import normalize_for_matching
from crawler.urls import canonical_url
from tests.support.fixture_web import build_fixture_web, fixture_sources_yaml
from tests.support.pg import pg_database

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "LOG_LEVEL=WARNING"]


def crawl(sources: Path, db_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), "--db", db_url, *FAST, *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("web")
    manifest = build_fixture_web(root)
    with WebServer(root) as server:
        sources = root.parent / "web-sources.yaml"
        sources.write_text(fixture_sources_yaml(server), encoding="utf-8")
        yield server, manifest, sources


def _expected_articles(server: WebServer, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Canonical URL -> manifest entry of every article page that should be stored."""
    out = {}
    for article in manifest["articles"]:
        if article.get("disallowed"):
            continue
        url = canonical_url(server.base_url(article["site"]) + article["path"])
        out[url] = article
    return out


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/web.db"
        return
    with pg_database() as url:
        yield url


@pytest.fixture(scope="module")
def crawled(web: Any, web_db_url: str) -> Any:
    server, manifest, sources = web
    db_url = web_db_url
    first = crawl(sources, db_url)
    assert first.returncode == 0, first.stderr[-3000:]
    requests = {name: list(site.requests) for name, site in server.sites.items()}
    for site in server.sites.values():
        site.reset_requests()
    second = crawl(sources, db_url)
    assert second.returncode == 0, second.stderr[-3000:]
    db = Database.open(db_url)
    try:
        yield server, manifest, db, first, second, requests
    finally:
        db.close()


def test_stores_the_article_pages_and_nothing_else(crawled: Any) -> None:
    server, manifest, db, first, *_ = crawled
    expected = _expected_articles(server, manifest)
    with db.session() as s:
        stored = {a.url: a for a in s.scalars(select(Article))}
    found = set(stored) & set(expected)
    assert len(found) >= 0.99 * len(expected), sorted(set(expected) - set(stored))[:10]
    assert set(stored) <= set(expected), sorted(set(stored) - set(expected))[:10]
    # Titles and text are the articles' own, in Arabic, without mojibake.
    for url in found:
        article, row = expected[url], stored[url]
        assert normalize_for_matching(row.title) == normalize_for_matching(article["title"]), url
        assert normalize_for_matching(article["first_paragraph"])[:60] in normalize_for_matching(row.text), url
    assert "pages fetched" in first.stdout and "per source" in first.stdout


def test_never_requests_a_disallowed_url_and_bounds_the_trap(crawled: Any) -> None:
    server, manifest, _db, _first, _second, requests = crawled
    disallowed = manifest.get("disallowed_prefixes", {})
    traps = manifest.get("trap_prefixes", {})
    for site, records in requests.items():
        paths = [r.path for r in records]
        for prefix in disallowed.get(site, []):
            assert not [p for p in paths if p.startswith(prefix)], (site, prefix)
        for prefix in traps.get(site, []):
            trap_hits = [p for p in paths if p.startswith(prefix)]
            assert len(trap_hits) <= 60, (site, len(trap_hits))


def test_second_crawl_adds_no_rows(crawled: Any) -> None:
    _server, _manifest, db, first, second, _ = crawled
    with db.session() as s:
        total = s.scalar(select(func.count(Article.id)))
        distinct = s.scalar(select(func.count(func.distinct(Article.url))))
    assert total == distinct
    assert "articles stored:    0 " in second.stdout, second.stdout


def test_windows_1256_site_is_decoded(crawled: Any) -> None:
    server, manifest, db, *_ = crawled
    legacy = [a for a in manifest["articles"] if a.get("encoding") and a["encoding"].lower() not in ("utf-8", "utf8")]
    assert legacy, "the fixture web has no legacy-encoded articles"
    expected = _expected_articles(server, manifest)
    with db.session() as s:
        stored = {a.url: a for a in s.scalars(select(Article))}
    for url, article in expected.items():
        if article in legacy:
            assert url in stored, url
            assert "Ø" not in stored[url].text and "\ufffd" not in stored[url].text


def test_dead_site_is_reported_and_the_rest_goes_on(web: Any, tmp_path: Path) -> None:
    server, _manifest, sources = web
    data = yaml.safe_load(sources.read_text(encoding="utf-8"))
    data["sources"].append({"name": "dead_site", "start_urls": ["http://127.0.0.99:9/"]})
    path = tmp_path / "with-dead.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = crawl(path, f"sqlite:///{tmp_path}/dead.db", "-s", "RETRY_TIMES=0")
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(ln for ln in result.stdout.splitlines() if "dead_site" in ln)
    assert "DEAD" in line
    db = Database.open(f"sqlite:///{tmp_path}/dead.db")
    with db.session() as s:
        assert s.scalar(select(func.count(Article.id))) > 0
    db.close()


def test_extraction_can_be_rerun_from_the_stored_page(crawled: Any) -> None:
    import json

    from click.testing import CliRunner

    from crawler.commands.cli import main

    _server, _manifest, db, *_ = crawled
    with db.session() as s:
        article = s.scalars(select(Article).order_by(Article.url).limit(1)).one()
    result = CliRunner().invoke(main, ["extract", "--stored", article.url, "--db", db.url])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["title"] == article.title and record["text"] == article.text
