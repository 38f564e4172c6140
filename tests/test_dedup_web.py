"""De-duplication on a crawl of the multi-site fixture web (syndicated wire copies).

One ``python -m crawler crawl`` of tests/support/fixture_web.py in a subprocess,
as users run it; then pairwise precision / recall of the stored cluster ids
against the web manifest's ``duplicate_groups`` (every other stored article is
its own story), and the default export: one record per distinct story, its
copies in ``duplicate_urls``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.demo.server import WebServer
from crawler.storage.export import export_corpus
from crawler.storage.database import Database
from crawler.storage.models import Article
from crawler.urls import canonical_url
from tests.support.fixture_web import build_fixture_web, fixture_sources_yaml

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "LOG_LEVEL=WARNING"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("dedupweb")
    manifest = build_fixture_web(root / "web")
    db_url = f"sqlite:///{root / 'web.db'}"
    with WebServer(root / "web") as server:
        sources = root / "sources.yaml"
        sources.write_text(fixture_sources_yaml(server), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), "--db", db_url, *FAST],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        story = {}  # canonical URL -> story key (its duplicate group, or itself)
        for article in manifest["articles"]:
            if article.get("disallowed"):
                continue
            url = canonical_url(server.base_url(article["site"]) + article["path"])
            story[url] = url
        for n, group in enumerate(manifest["duplicate_groups"]):
            for key in group:
                site, path = key.split(":", 1)
                story[canonical_url(server.base_url(site) + path)] = f"group-{n}"
    db = Database.open(db_url)
    try:
        yield manifest, story, db, root
    finally:
        db.close()


def test_copies_are_clustered_with_precision_and_recall(crawled: Any) -> None:
    manifest, story, db, _root = crawled
    assert manifest["duplicate_groups"], "the fixture web has no syndicated copies"
    with db.session() as s:
        cluster = {u: c for u, c in s.execute(select(Article.url, Article.cluster_id)) if u in story}
    assert len(cluster) >= 0.95 * len(story)
    tp = fp = fn = 0
    for a, b in combinations(sorted(cluster), 2):
        truth, said = story[a] == story[b], cluster[a] == cluster[b]
        tp += truth and said
        fp += said and not truth
        fn += truth and not said
    assert tp + fn >= 10, "too few true pairs stored to measure"
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn)
    assert precision >= 0.98, (precision, tp, fp, fn)
    assert recall >= 0.95, (recall, tp, fp, fn)


def test_export_has_one_record_per_story_with_the_copies(crawled: Any) -> None:
    _manifest, story, db, root = crawled
    out = root / "corpus.jsonl"
    export_corpus(db, out, "jsonl")
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    stored = {u for r in records for u in [r["url"], *r["duplicate_urls"]] if u in story}
    assert len(records) == len({story[u] for u in stored})
    for rec in records:
        members = [rec["url"], *rec["duplicate_urls"]]
        assert len({story[u] for u in members}) == 1, members
        group = [u for u in stored if story[u] == story[rec["url"]]]
        assert sorted(members) == sorted(group)
    assert any(r["duplicate_urls"] for r in records)
    again = root / "again.jsonl"
    export_corpus(db, again, "jsonl")
    assert again.read_bytes() == out.read_bytes()
