"""Arabic date rules: month-name families, dual forms, Eastern digits, Hijri beside Gregorian, ص/م, relative."""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.extract import extract_article
from crawler.extract.dates import parse_machine_date, relative_date, text_date, url_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الأربعاء 15 أكتوبر 2025", "2025-10-15"),
        ("الأربعاء 15/أكتوبر/2025 - 09:42 ص", "2025-10-15T09:42:00"),
        ("15 تشرين الأول 2025", "2025-10-15"),
        ("3 كانون الثاني 2024 الساعة 10:05 م", "2024-01-03T22:05:00"),
        ("24 نيسان / أبريل 2020 09:22 مساءً", "2020-04-24T21:22:00"),
        ("5 مارس/آذار 2024", "2024-03-05"),
        ("٥ مارس ٢٠٢٤ - ١٠:١٥ ص", "2024-03-05T10:15:00"),
        ("الثلاثاء 24 شعبان 1445 هـ الموافق 5 مارس 2024 م", "2024-03-05"),
        ("1445/08/24 هـ - 2024/03/05", "2024-03-05"),
        ("نشر في 05/03/2024", "2024-03-05"),
        ("12 ابريل 2021 12:30 م", "2021-04-12T12:30:00"),
        ("12 اب 2021", "2021-08-12"),
        ("7 جويلية 2022", "2022-07-07"),
        ("March 5, 2024", "2024-03-05"),
        ("لا يوجد تاريخ هنا 1445 هـ", None),
    ],
)
def test_text_dates(text, expected):
    assert text_date(text, 2030) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("منذ ساعتين", "2025-10-15T10:00:00"), ("منذ 3 ساعات", "2025-10-15T09:00:00"),
     ("منذ يومين", "2025-10-13T12:00:00"), ("منذ ٥ دقائق", "2025-10-15T11:55:00"), ("2 hours ago", "2025-10-15T10:00:00")],
)
def test_relative(text, expected):
    assert relative_date(text, datetime(2025, 10, 15, 12)) == expected
    assert relative_date(text, None) is None


def test_machine_and_url_dates():
    assert parse_machine_date("2025-10-15T09:42:00+03:00", 2030) == "2025-10-15T09:42:00+03:00"
    assert parse_machine_date("2020-03-17T12:00:00Z", 2030).startswith("2020-03-17")
    assert parse_machine_date("Tue, 17 Mar 2020 12:00:00 +0300", 2030).startswith("2020-03-17")
    assert parse_machine_date("2099-01-01", 2030) is None
    assert url_date("https://x.example/story/2020/8/24/slug/4943459", 2030) == "2020-08-24"
    assert url_date("https://x.example/news/2020-06-03-1.3874341", 2030) == "2020-06-03"
    assert url_date("https://x.example/world/202003171044893040-slug/", 2030) == "2020-03-17"
    assert url_date("https://x.example/2020/11/2338761/", 2030) is None


BODY = "".join(f"<p>فقرة من نص الخبر رقم {i} تكفي لأن يكون النص مقالا، مع تفاصيل إضافية عن الحدث.</p>" for i in range(4))


@pytest.mark.parametrize(
    ("head", "header", "url", "source", "date"),
    [
        ('<meta property="article:published_time" content="2024-02-01T10:00:00+02:00">', "", None, "meta:article:published_time", "2024-02-01"),
        ('<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2024-02-02T08:00:00+03:00",}</script>', "", None, "json-ld", "2024-02-02"),
        ("", '<time datetime="2024-02-03T08:00:00">3 فبراير</time>', None, "time", "2024-02-03"),
        ("", "", "https://x.example/2024/02/04/a.html", "url", "2024-02-04"),
        ("", "<span>الأحد 5 شباط 2024</span>", None, "text", "2024-02-05"),
        ("", "<span>منذ ساعتين</span>", None, "relative", "2024-02-06"),
    ],
)
def test_date_sources(head, header, url, source, date):
    html = f"<html><head>{head}</head><body><h1>عنوان الخبر هنا للاختبار</h1>{header}<div>{BODY}</div></body></html>"
    ext = extract_article(html, url, fetched_at=datetime(2024, 2, 6, 14))
    assert ext.date_source == source and ext.published_at[:10] == date


def test_text_without_digits_is_not_searched_and_the_answers_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digit guard of text_date / relative_date: the same answers as trying every rule, on the
    corpus lines the line rules date (140 characters or fewer) and on random text (digits of
    several scripts, month names, منذ)."""
    import random
    import re

    from crawler.extract import dates
    from tests.support import corpora

    rnd = random.Random(5)
    pieces = ["15", "٥", "۲۰", "2024", "٢٠٢٤", "/", "-", ":", " ", "مارس", "منذ", "ساعتين", "3", "ايام", "hours",
              "ago", "هـ", "م", "10:30", "ص", "\u0967", "𝟐", "x"]
    texts = [line for line in corpora.lines() if len(line) <= 140]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 9))) for _ in range(10_000)]
    when = datetime(2024, 3, 5, 12, 0)
    fast = [(text_date(t, 2100), relative_date(t, when)) for t in texts]
    monkeypatch.setattr(dates, "_DIGIT", re.compile(""))  # always found: every rule tried
    assert [(text_date(t, 2100), relative_date(t, when)) for t in texts] == fast
