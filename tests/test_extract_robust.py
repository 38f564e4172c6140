"""extract_article never raises: bad input becomes is_article=False with a reason; encodings are decoded."""

from __future__ import annotations

import pytest

from crawler.extract import Extraction, extract_article

BODY = "".join(
    f"<p>هذه فقرة عربية رقم {i} من نص تجريبي كتب لاختبار المستخرج، وتحتوي على جمل كافية ليعد النص مقالا حقيقيا.</p>"
    for i in range(5)
)
PAGE = f"<html><head><title>عنوان الخبر التجريبي الطويل</title></head><body><h1>عنوان الخبر التجريبي الطويل</h1><div>{BODY}</div></body></html>"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "empty"),
        (b"", "empty"),
        ("   \n ", "empty"),
        (b"\x00\x01\x02\x03" * 500, "not_html"),
        ("just some text, no markup at all", "not_html"),
        ('{"json": true}', "not_html"),
        ("<html><body>" + "<div>" * 5000 + "نص" + "</div>" * 5000 + "</body></html>", "too_deep"),
        ("<html><body><p>قصير</p></body></html>", "too_short"),
        ("<html><body><nav><a href='/'>الرئيسية</a></nav></body></html>", "no_body"),
        (PAGE.replace("عربية", "english").replace("هذه فقرة", "this is").replace("عربي", "x")
         .replace("من نص تجريبي كتب لاختبار المستخرج، وتحتوي على جمل كافية ليعد النص مقالا حقيقيا",
                  "of a test text written for the extractor with enough sentences to count as an article"), "not_arabic"),
    ],
)
def test_not_an_article(data, reason):
    ext = extract_article(data)
    assert isinstance(ext, Extraction)
    assert ext.is_article is False and ext.reason == reason


@pytest.mark.parametrize("bad", [None, 12345, object(), ["<p>"]])
def test_wrong_types_never_raise(bad):
    assert extract_article(bad).is_article is False  # type: ignore[arg-type]


def test_truncated_page_is_handled():
    ext = extract_article(PAGE[: len(PAGE) // 2])
    assert ext.is_article and ext.paragraphs  # recovered the paragraphs before the cut
    assert extract_article(PAGE[:60]).is_article is False


def test_listing_page():
    links = "".join(f'<li><a href="/n/{i}">عنوان خبر رقم {i} في قائمة الأخبار الرئيسية</a></li>' for i in range(40))
    html = f'<html><head><meta property="og:type" content="website"></head><body><ul>{links}</ul><p>نبذة قصيرة عن القسم.</p></body></html>'
    ext = extract_article(html)
    assert ext.is_article is False and ext.reason in ("listing_page", "no_body", "too_short")


@pytest.mark.parametrize("encoding", ["cp1256", "iso8859_6", "utf-8"])
@pytest.mark.parametrize("declared", [True, False])
def test_encodings(encoding, declared):
    page = PAGE.replace("<head>", f'<head><meta charset="{encoding}">' if declared else "<head>")
    if encoding == "iso8859_6":
        page = page.replace("،", ",")  # keep to the charset's repertoire
    ext = extract_article(page.encode(encoding))
    assert ext.is_article, ext.reason
    assert "هذه فقرة عربية" in ext.text


def test_encoding_hint_wins():
    ext = extract_article(PAGE.encode("cp1256"), encoding="windows-1256")
    assert ext.title == "عنوان الخبر التجريبي الطويل"


def test_extra_patterns_and_bad_regex():
    page = PAGE.replace("</div>", "<p>حمّل تطبيق الموقع الآن من المتجر مجانا واستمتع بالأخبار</p></div>")
    assert "حمّل تطبيق" in extract_article(page).text
    ext = extract_article(page, extra_patterns=[r"^حمّل تطبيق", "(unclosed"])
    assert ext.is_article and "حمّل تطبيق" not in ext.text


def test_audio_fallback_and_source_line():
    page = PAGE.replace("</div>", "<audio>Your browser does not support audio tag.</audio><p>المصدر: وكالات</p></div>")
    ext = extract_article(page, "https://x.example/a")
    assert "browser" not in ext.text and "المصدر" not in ext.text
    assert ext.attribution == "وكالات" and ext.boilerplate_removed >= 2
