"""Hostile pages for benchmarks/bench_hostile.py and tests/test_hostile_input.py.

Each builder returns the bytes of one page built to cost the extractor as much as possible:
long runs of whitespace where dates and titles are read, lines that backtracking rules choke on,
huge numbers of empty or ``<br>``-separated elements, control characters where the tree is edited.
"""

from __future__ import annotations

import json

ARTICLE = (
    "<p>قال مسؤولون في الحكومة اليوم إن المفاوضات بين الطرفين ستستأنف الأسبوع المقبل في العاصمة، "
    "بعد أسابيع من التوقف بسبب الخلافات حول عدد من الملفات العالقة بين الجانبين.</p>"
    "<p>وأضاف المسؤولون أن الوفدين سيبحثان جدول الأعمال وآليات التنفيذ والضمانات المطلوبة، "
    "مشيرين إلى أن الأجواء إيجابية وأن هناك رغبة مشتركة في التوصل إلى اتفاق شامل قريبا.</p>"
    "<p>وكانت الجولة السابقة من المحادثات قد انتهت من دون نتائج ملموسة، وسط تبادل الاتهامات "
    "بين الطرفين بشأن المسؤولية عن تعثر المسار التفاوضي خلال الأشهر الماضية.</p>"
)


def page(body: str = "", head: str = "", title: str = "المفاوضات تستأنف الأسبوع المقبل في العاصمة") -> bytes:
    return (
        f"<html lang='ar'><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body><article><h1>{title}</h1>{body}{ARTICLE}</article></body></html>"
    ).encode()


def ld(obj: dict) -> str:
    return f"<script type='application/ld+json'>{json.dumps(obj, ensure_ascii=False)}</script>"


def _spaces(n: int) -> str:
    return " " * n


def cases() -> dict[str, bytes]:
    """name -> page: every case of the hostile-input issue (each under the 8 MB download cap)."""
    sp = _spaces(20_000)
    out = {
        "time_text_spaces_20k": page(f"<time>12{sp}x</time>"),
        "time_datetime_spaces_20k": page(f"<time datetime='12{sp}x'>x</time>"),
        "jsonld_date_spaces_20k": page(head=ld({"@type": "NewsArticle", "datePublished": f"12{sp}x"})),
        "jsonld_headline_spaces_30k": page(head=ld({"@type": "NewsArticle", "headline": "a" + _spaces(30_000) + "b"})),
        "jsonld_author_spaces_30k": page(head=ld({"@type": "NewsArticle", "author": {"name": "a" + _spaces(30_000) + "b,"}})),
        "jsonld_keywords_spaces_30k": page(head=ld({"@type": "NewsArticle", "keywords": "a" + _spaces(30_000) + "b"})),
        "jsonld_nested_100k": page(head="<script type='application/ld+json'>" + "[" * 100_000 + "</script>"),
        "comment_rule_lines_4mb": page("".join(f"<p>تعليقات{'!' * 390}x</p>" for _ in range(4_000_000 // 405))),
        "vertical_tab_after_block": page(
            "<div class='related'><h3>اقرأ أيضا</h3><a href='/a/1'>خبر أول عن المفاوضات في العاصمة</a></div>\x0b"
            "\x0bنص بعد الصندوق"
        ),
        "bad_link_in_read_also": page(
            "<div><h3>اقرأ أيضا</h3><ul><li><a href='http://[x/'>عنوان خبر مرتبط بالمفاوضات الجارية</a></li>"
            "<li><a href='/news/2'>عنوان خبر آخر مرتبط بالمفاوضات الجارية</a></li></ul></div>"
        ),
        "empty_p_1_6m": page("<p>" * 1_600_000),
        "br_lines_250k": page("<div>" + "<br>".join(f"سطر {i}" for i in range(250_000)) + "</div>"),
        "br_2m_8mb": page("<div>" + "<br>" * 2_000_000 + "</div>"),
    }
    return out
