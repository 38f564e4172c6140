"""Encodings: windows-1256 and ISO-8859-6 pages, declared wrongly or not at all."""

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.discovery.encoding import EncodingFixMiddleware, best_decoding, garble_score
from tests.support.settings import own_settings

TEXT = "أكد وزير الخارجية أن المحادثات ستتواصل خلال الأسبوع المقبل في العاصمة"


def page(body_text: str) -> str:
    return f"<html><head><title>خبر</title></head><body><p>{body_text}</p></body></html>"


def middleware() -> EncodingFixMiddleware:
    return EncodingFixMiddleware.from_crawler(get_crawler(settings_dict=own_settings()))


def test_garble_score() -> None:
    assert garble_score(TEXT) == 0
    assert garble_score(TEXT.encode("cp1256").decode("latin-1")) > 0.5
    assert garble_score(TEXT.encode("cp1256").decode("utf-8", "replace")) > 0.5


def test_best_decoding_finds_the_arabic_codec() -> None:
    assert best_decoding(TEXT.encode("cp1256"))[0] == "cp1256"
    assert best_decoding(TEXT.encode("utf-8"))[0] == "utf-8"
    codec, text = best_decoding(TEXT.encode("iso8859-6"))
    assert text == TEXT


def test_wrong_header_is_fixed() -> None:
    body = page(TEXT).encode("cp1256")
    response = HtmlResponse("http://a/1", body=body, headers={"Content-Type": "text/html; charset=iso-8859-1"},
                            request=Request("http://a/1"))
    assert "أكد" not in response.text
    fixed = middleware().process_response(response.request, response)
    assert isinstance(fixed, HtmlResponse)
    assert TEXT in fixed.text
    assert fixed.encoding == "cp1256"


def test_undeclared_windows_1256_is_fixed() -> None:
    body = page(TEXT).encode("cp1256")
    response = HtmlResponse("http://a/2", body=body, headers={"Content-Type": "text/html"}, request=Request("http://a/2"))
    fixed = middleware().process_response(response.request, response)
    assert TEXT in fixed.text


def test_good_utf8_untouched_and_forced_encoding() -> None:
    response = HtmlResponse("http://a/3", body=page(TEXT).encode(), encoding="utf-8", request=Request("http://a/3"))
    assert middleware().process_response(response.request, response) is response
    body = page(TEXT).encode("iso8859-6")
    request = Request("http://a/4", meta={"source_encoding": "iso8859-6"})
    response = HtmlResponse("http://a/4", body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request)
    assert TEXT in middleware().process_response(request, response).text


def _garble_score_by_character(text: str) -> float:
    """The reference: garble_score counted one character at a time."""
    sample = text[:20000]
    bad = sum(c == "\ufffd" or "\u00c0" <= c <= "\u00ff" for c in sample)
    letters = bad + sum("\u0600" <= c <= "\u06ff" or (c.isascii() and c.isalpha()) for c in sample)
    return bad / letters if letters else 0.0


def test_garble_score_counts_as_one_character_at_a_time() -> None:
    garbled = TEXT.encode("cp1256").decode("latin-1")
    samples = ["", "123 !?", TEXT, garbled, TEXT + " Hello ÀÿÁ×÷ \ufffd \ud800 z@[`{ " + garbled,
               "x" * 25000 + garbled, "\U0001f600 " + TEXT + " \u00bf\u0100\u05ff\u0700"]
    for text in samples:
        assert garble_score(text) == _garble_score_by_character(text)
