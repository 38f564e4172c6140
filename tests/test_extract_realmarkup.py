"""Extraction on markup as real sites serve it (issue 10): <br>-line bodies among custom elements,
JSON-LD-only bodies, table layouts, labelled titles, and the candidate / second-opinion rules.

The pages are written for the project (tests/extraction/page_8*_realmarkup.*); the real pages of
../shared/realweb/zyte are only read, to hold the body F1 against trafilatura's.
"""

from __future__ import annotations

import gzip
import json
import statistics
from collections import Counter
from pathlib import Path

import pytest

from crawler.extract import extract_article
from crawler.extract.candidates import Candidate, choose, weakness
from crawler.extract.evaluate import load_cases, same_title
from crawler.extract.paragraphs import CleanedLines

ROOT = Path(__file__).resolve().parent.parent
ZYTE = ROOT.parent / "shared" / "realweb" / "zyte"
CASES = {c.name: c for c in load_cases(ROOT / "tests" / "extraction") if c.expected["family"] == "realmarkup"}


def _run(name: str):
    case = CASES[name]
    return extract_article(case.html, case.url, fetched_at=case.fetched_at), case.expected


def test_br_lines_among_custom_elements_in_a_page_wide_form():
    ext, exp = _run("page_80_realmarkup")
    assert ext.is_article, ext.reason
    assert ext.paragraphs == exp["paragraphs"]
    assert ext.body_source == "page" and ext.body_weakness is None
    assert sorted(r["headline"] for r in ext.related_headlines) == sorted(exp["related_headlines"])
    assert "بحث في الموقع" not in ext.text  # the search form inside the page-wide form still goes


def test_jsonld_article_body_when_the_visible_body_is_thin():
    ext, exp = _run("page_81_realmarkup")
    assert ext.is_article, ext.reason
    assert ext.paragraphs == exp["paragraphs"]
    assert ext.body_source == "jsonld" and ext.body_weakness == "short"


def test_labelled_title_kept_and_never_the_site_name():
    ext, exp = _run("page_82_realmarkup")
    assert ext.title == exp["title"] and ext.title.startswith("عاجل | ")
    assert not same_title(ext.title, "الوطن اليوم")
    assert ext.paragraphs == exp["paragraphs"]


def test_body_in_table_cells():
    ext, exp = _run("page_83_realmarkup")
    assert ext.is_article, ext.reason
    assert ext.paragraphs == exp["paragraphs"]
    assert "تكريم الطلبة" not in ext.text


@pytest.mark.parametrize("label", ["عاجل", "فيديو"])
def test_title_label_kept_when_og_title_and_h1_are_the_site_name(label):
    body = "".join(f"<p>فقرة من نص الخبر رقم {i} تكفي لأن يكون النص مقالا، مع تفاصيل إضافية عن الحدث.</p>" for i in range(4))
    html = (f'<html><head><title>{label} | سقوط أمطار غزيرة على العاصمة - موقع الخبر</title>'
            '<meta property="og:title" content="موقع الخبر"><meta property="og:site_name" content="موقع الخبر">'
            f'</head><body><h1>موقع الخبر</h1><div class="t">{label} | سقوط أمطار غزيرة على العاصمة</div>'
            f"<div>{body}</div></body></html>")
    ext = extract_article(html, "https://x.example/a/1")
    assert ext.title == f"{label} | سقوط أمطار غزيرة على العاصمة"


def test_title_is_not_the_jsonld_publisher():
    body = "".join(f"<p>فقرة من نص الخبر رقم {i} تكفي لأن يكون النص مقالا، مع تفاصيل إضافية عن الحدث.</p>" for i in range(4))
    ld = {"@type": "NewsArticle", "headline": "صحيفة المساء", "publisher": {"@type": "Organization", "name": "صحيفة المساء"}}
    html = (f'<html><head><title>افتتاح معرض الكتاب الدولي</title><script type="application/ld+json">{json.dumps(ld)}</script>'
            f"</head><body><h1>افتتاح معرض الكتاب الدولي</h1><div>{body}</div></body></html>")
    assert extract_article(html, "https://x.example/a/2").title == "افتتاح معرض الكتاب الدولي"


def _res(*paragraphs: str) -> CleanedLines:
    return CleanedLines(paragraphs=list(paragraphs))


def test_weak_rules_in_order():
    long = "نص " * 300
    assert weakness(_res(), 0.0, 1.0) == "no_body"
    assert weakness(_res("فقرة قصيرة جدا من الخبر لا تكفي."), 0.0, 1.0) == "short"
    assert weakness(_res(long), 0.5, 1.0) == "mostly_links"
    assert weakness(_res(long), 0.0, 0.2) == "minor_share"
    assert weakness(_res(long), 0.0, 0.9) is None


def test_choose_keeps_own_body_unless_another_has_clearly_more_prose():
    own = Candidate("page", _res("أ" * 100))
    near = Candidate("trafilatura", _res("ب" * 110))
    more = Candidate("trafilatura", _res("ب" * 130))
    ld = Candidate("jsonld", _res("ج" * 200))
    assert choose([own, near]) is own
    assert choose([own, more]) is more
    assert choose([own, more, ld]) is ld
    assert choose([Candidate("page", _res()), Candidate("trafilatura", _res("قصير"))]).source == "page"


def test_second_opinion_when_own_body_is_missing():
    # The body is one run of text in a <span> with no block at all; our candidate finds little prose.
    text = " ".join(f"جملة رقم {i} من نص الخبر الطويل الذي يحكي تفاصيل الحدث كاملة." for i in range(40))
    html = f"<html><head><title>خبر</title></head><body><span>{text}</span></body></html>"
    ext = extract_article(html, "https://x.example/a/3")
    assert ext.is_article, ext.reason
    assert "جملة رقم 39" in ext.text
    assert ext.body_source in ("page", "trafilatura")


def test_never_raises_and_says_why_on_an_empty_page():
    ext = extract_article("<html><body><div></div></body></html>", "https://x.example/a/4")
    assert not ext.is_article and ext.reason


@pytest.mark.skipif(not (ZYTE / "ground-truth.json").exists(), reason="../shared/realweb/zyte is absent")
def test_zyte_real_pages_at_least_trafilaturas_figures():
    """Body token F1 (whitespace tokens, Zyte benchmark style) on 181 real pages: mean >= 0.956 and
    at most 3 pages under 0.5, trafilatura 2.3.1's figures in the issue."""
    truth = json.loads((ZYTE / "ground-truth.json").read_text(encoding="utf-8"))

    def f1(pred: str, gold: str) -> float:
        p, g = Counter(pred.split()), Counter(gold.split())
        common = sum((p & g).values())
        if not common:
            return 0.0
        precision, recall = common / sum(p.values()), common / sum(g.values())
        return 2 * precision * recall / (precision + recall)

    scores = []
    for pid, gold in truth.items():
        html = gzip.decompress((ZYTE / "html" / f"{pid}.html.gz").read_bytes())
        scores.append(f1(extract_article(html, gold["url"]).text, gold["articleBody"]))
    assert statistics.mean(scores) >= 0.956
    assert sum(s < 0.5 for s in scores) <= 3
