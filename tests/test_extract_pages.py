"""Extraction quality gate: the seed page, the regression set (thresholds + per-page snippets), the 8 real pages."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from crawler.extract import extract_article
from crawler.extract.evaluate import load_cases, same_date, score

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CASES = load_cases(ROOT / "tests" / "extraction")
needs_shared = pytest.mark.skipif(not (SHARED / "seed" / "article.html").exists(), reason="../shared is absent")


def _run(case):
    return extract_article(case.html, case.url, fetched_at=case.fetched_at)


@pytest.fixture(scope="module")
def results():
    return {c.name: (_run(c), c.expected) for c in CASES}


def test_regression_set_shape():
    families = {c.expected["family"] for c in CASES}
    assert len(CASES) >= 40 and len(families) >= 6


def test_thresholds(results):
    scores = [score(e.title, e.text, e.published_at, x) for e, x in results.values()]
    n = len(scores)
    assert sum(s["f1"] for s in scores) / n >= 0.97
    assert sum(s["title_ok"] for s in scores) / n >= 0.98
    assert sum(s["date_ok"] for s in scores) / n >= 0.98
    assert [name for name, s in zip(results, scores) if s["left"]] == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_page(case, results):
    ext, exp = results[case.name]
    s = score(ext.title, ext.text, ext.published_at, exp)
    assert ext.is_article, ext.reason
    assert s["missing"] == [] and s["left"] == []
    assert ext.attribution == exp["attribution"]
    assert sorted(ext.tags) == sorted(exp["tags"])
    if exp["authors"]:
        assert ext.authors == exp["authors"]
    assert sorted(r["headline"] for r in ext.related_headlines) == sorted(exp["related_headlines"])
    assert sorted(r["title"] for r in ext.read_also) == sorted(exp["read_also"])
    assert all(r["url"].startswith("https://") for r in ext.related_headlines + ext.read_also)


@needs_shared
def test_seed_page():
    exp = json.loads((SHARED / "seed" / "article.expected.json").read_text(encoding="utf-8"))
    url = "http://127.0.0.1:8000/news/2025101500.html"
    ext = extract_article((SHARED / "seed" / "article.html").read_bytes(), url, fetched_at=datetime(2025, 10, 15, 12))
    assert ext.is_article and ext.title == exp["title"]
    assert ext.paragraphs == exp["paragraphs"]
    assert ext.attribution == exp["attribution"] and ext.tags == exp["tags"]
    assert same_date(ext.published_at, exp["published_date"])
    assert [r["headline"] for r in ext.related_headlines] == exp["related_headlines"]
    assert [r["title"] for r in ext.read_also] == [exp["read_also"]["title"]]
    assert ext.read_also[0]["url"] == "http://127.0.0.1:8000/news/2025101508.html"
    for bad in exp["must_not_contain"]:
        assert bad not in ext.text and bad not in ext.title
    record = ext.to_record()
    for key in ("title", "text", "published_at", "authors", "tags", "attribution", "related_headlines"):
        assert key in record
    json.dumps(record, ensure_ascii=False)


REAL = json.loads((ROOT / "tests" / "extraction" / "real_pages.json").read_text(encoding="utf-8"))
REAL_NAMES = sorted(k for k in REAL if k.endswith(".html"))


@needs_shared
@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_page(name):
    dates = json.loads((SHARED / "pages" / "dates.json").read_text(encoding="utf-8"))
    ext = extract_article((SHARED / "pages" / name).read_bytes(), dates[name]["url"])
    assert ext.is_article, ext.reason
    assert same_date(ext.published_at, dates[name]["published_date"]), (ext.published_at, ext.date_source)
    for snippet in REAL[name]["must"]:
        assert snippet in ext.text
    for snippet in REAL[name]["must_not"]:
        assert snippet not in ext.text
