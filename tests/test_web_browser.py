"""`serve` in a real browser (headless system Chromium through Playwright): what a reader sees, and what runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.storage.database import Database
from crawler.web.app import create_app
from crawler.web.db import open_readonly
from tests.support import webcorpus
from tests.support.browser import browser, live_server, require_browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    executable = require_browser()
    tmp = tmp_path_factory.mktemp("web")
    writer = Database.open(f"sqlite:///{tmp / 'web.db'}")
    webcorpus.build(writer, tmp)
    writer.close()
    db = open_readonly(f"sqlite:///{tmp / 'web.db'}")
    with live_server(create_app(db)) as base, browser(executable) as b:
        yield base, b
    db.close()


@pytest.fixture()
def page(site: tuple[str, Any]) -> Iterator[Any]:
    base, b = site
    context = b.new_context(locale="ar")
    pg = context.new_page()
    pg.base = base
    pg.seen = {"dialogs": [], "requests": [], "errors": [], "console": []}
    pg.on("dialog", lambda d: (pg.seen["dialogs"].append(d.message), d.dismiss()))
    pg.on("request", lambda r: pg.seen["requests"].append(r.url))
    pg.on("pageerror", lambda e: pg.seen["errors"].append(str(e)))
    pg.on("console", lambda m: pg.seen["console"].append(m.text))
    yield pg
    context.close()


def _nothing_ran(pg: Any) -> None:
    assert pg.seen["dialogs"] == [] and pg.seen["errors"] == []
    assert pg.evaluate("typeof window.__xss") == "undefined"
    assert all(u.startswith(pg.base) for u in pg.seen["requests"]), pg.seen["requests"]  # nothing from outside


def test_overview_shows_the_counts(page: Any) -> None:
    page.goto(page.base + "/")
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["rtl", "ar"]
    counts = {k: page.locator(f"#count-{k} .n").inner_text() for k in ("articles", "clusters", "duplicates")}
    assert counts == {"articles": "4", "clusters": "3", "duplicates": "1"}
    assert page.locator(".chart svg rect").count() == 4
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"  # the style sheet loaded
    _nothing_ran(page)


def test_search_by_a_variant_spelling_finds_the_story(page: Any) -> None:
    page.goto(page.base + "/articles")
    page.fill("form.search input[name=q]", "وزاره الصحه")  # ta marbuta written as ha
    page.click("form.search button")
    page.wait_for_url(re.compile(r"/articles\?q="))
    titles = page.locator(".hit h2").all_inner_texts()
    assert titles == ["افتتاح مستشفى جديد بمدينة جدة", "افتتاح مستشفى جديد في جدة"]
    page.fill("form.search input[name=q]", "اعلنت")  # hamza dropped
    page.click("form.search button")
    page.wait_for_load_state()
    assert page.locator(".hit").count() == 2
    _nothing_ran(page)


def test_cluster_page_shows_every_copy(page: Any) -> None:
    page.goto(page.base + "/articles?q=" + "مستشفي")
    page.locator(".hit h2 a").first.click()
    page.wait_for_url(re.compile(r"/clusters/"))
    copies = page.locator("article.copy")
    assert copies.count() == 2
    sites = copies.locator(".site bdi").all_inner_texts()
    assert sorted(sites) == ["alpha", "beta"]
    assert "المحلية" in page.locator("article.copy .text ins").all_inner_texts()
    assert page.locator(".why .merge").count() == 1
    _nothing_ran(page)


def test_hostile_title_is_text_and_runs_nothing(page: Any) -> None:
    page.goto(page.base + "/articles?q=" + "الاسهم")
    assert page.locator(".hit h2").inner_text() == webcorpus.HOSTILE_TITLE
    assert page.locator("main img, main script").count() == 0
    page.locator(".hit h2 a").click()
    page.wait_for_url(re.compile(r"/clusters/"))
    assert page.locator("h1").inner_text() == webcorpus.HOSTILE_TITLE
    assert page.locator("main img, main script").count() == 0
    _nothing_ran(page)


@pytest.mark.parametrize("width", [360, 1280])
def test_readable_on_a_phone_and_a_desktop(site: tuple[str, Any], width: int) -> None:
    base, b = site
    context = b.new_context(viewport={"width": width, "height": 800})
    pg = context.new_page()
    for path in ("/", "/articles?q=" + "افتتاح", "/headlines"):
        pg.goto(base + path)
        overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (path, overflow)
    context.close()


def test_content_security_policy_blocks_inline_script(site: tuple[str, Any], tmp_path: Path) -> None:
    """The policy itself, as the browser applies it: an inline script added to the page does not run."""
    base, b = site
    context = b.new_context()
    pg = context.new_page()
    pg.goto(base + "/")
    pg.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                           document.body.appendChild(s); }""")
    assert pg.evaluate("typeof window.__ran") == "undefined"
    context.close()
