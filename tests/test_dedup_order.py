"""Do the clusters depend on the order copies arrive in? (the shared crawl changes the order)

Complete-link clustering can, in principle: a copy joins a cluster only if it is
close to every member, so which copy came first can decide who joins. A shared
crawl stores the same pages in another order than one process, so its clusters
equal one process's only where the order does not matter. Here the articles of
the fixture web (tests/support/fixture_web.py: three wire stories syndicated, with
rewordings, across five sites) and of the shared-crawl test web are clustered in
many orders: every order must give the same clusters, the manifest's groups.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.arrival import cluster_in_order, groups
from tests.support.fixture_web import build_fixture_web

ORDERS = 6


def fixture_articles(root: Path) -> tuple[list[dict[str, Any]], set[frozenset[str]]]:
    manifest = build_fixture_web(root)
    pages = []
    for site in manifest["sites"]:
        for art in json.loads((root / site / "_manifest.json").read_text(encoding="utf-8"))["articles"]:
            pages.append({"url": f"https://{site}.example{art['path']}", "site": site, "title": art["title"],
                          "text": "\n".join(art["paragraphs"]), "related_headlines": art.get("related_headlines"),
                          "fetched_at": datetime(2025, 10, 15, tzinfo=UTC)})
    groups = {frozenset(f"https://{k.split(':', 1)[0]}.example{k.split(':', 1)[1]}" for k in g)
              for g in manifest["duplicate_groups"]}
    return pages, groups


def clusters(tmp: Path, pages: list[dict[str, Any]]) -> set[frozenset[str]]:
    return set(groups(cluster_in_order(tmp, pages)).values())


def test_fixture_web_clusters_do_not_depend_on_arrival_order(tmp_path: Path) -> None:
    pages, groups = fixture_articles(tmp_path / "web")
    rng = random.Random(12)
    orders = [pages, pages[::-1]] + [rng.sample(pages, len(pages)) for _ in range(ORDERS)]
    results = [clusters(tmp_path / f"o{n}.db", order) for n, order in enumerate(orders)]
    assert all(r == results[0] for r in results)
    merged = {g for g in results[0] if len(g) > 1}
    assert merged == groups


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled"])
def test_shared_crawl_web_clusters_do_not_depend_on_arrival_order(tmp_path: Path, order: str) -> None:
    from tests.support.syndicated import SyndicatedSite
    from tests.test_shared_dedup import ARTICLES, SITES, WIRES

    pages = []
    for n in range(SITES):
        site = SyndicatedSite(tmp_path / f"site{n}", ARTICLES, n, WIRES)
        for i in range(ARTICLES):
            story = site.stories[site.story_index(i) % len(site.stories)]
            html = site.article(i)
            own = html.split("<p>")[-1].split("</p>")[0]
            pages.append({"url": f"https://site{n}.example/news/{i}.html", "site": f"site{n}", "title": story.title,
                          "text": "\n".join([*story.paragraphs(site.when(i).replace(tzinfo=None)), own]),
                          "fetched_at": datetime(2025, 10, 15, tzinfo=UTC)})
    if order == "reverse":
        pages.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(pages)
    got = clusters(tmp_path / "o.db", pages)
    assert sorted(len(g) for g in got) == [1] * (SITES * (ARTICLES - WIRES)) + [SITES] * WIRES
