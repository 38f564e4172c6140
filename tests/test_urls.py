"""Canonical URLs: one article, one row."""

import pytest

from crawler.urls import canonical_url, is_probably_not_html, looks_like_non_article

BASE = "https://news.example/2025/10/15/story-1234"


@pytest.mark.parametrize(
    "variant",
    [
        BASE,
        BASE + "#comments",
        BASE + "?utm_source=twitter&utm_medium=social",
        BASE + "?fbclid=abc",
        "HTTPS://NEWS.EXAMPLE:443/2025/10/15/story-1234",
        BASE + "/amp",
        BASE + "/amp/",
        "https://news.example/amp/2025/10/15/story-1234",
        "https://amp.news.example/2025/10/15/story-1234",
        BASE + "?amp=1",
        BASE + "?outputType=amp",
    ],
)
def test_variants_share_one_canonical_url(variant: str) -> None:
    assert canonical_url(variant) == canonical_url(BASE)


def test_meaningful_query_is_kept_and_sorted() -> None:
    assert canonical_url("https://a.example/news.php?id=5&cat=2&utm_x=1") == "https://a.example/news.php?cat=2&id=5"


def test_arabic_path_is_percent_encoded_once() -> None:
    raw = "https://a.example/news/وزير-الري"
    encoded = canonical_url(raw)
    assert "%D9%88" in encoded
    assert canonical_url(encoded) == encoded


def test_non_html_and_non_article_urls() -> None:
    assert is_probably_not_html("https://a.example/img/photo.JPG")
    assert not is_probably_not_html("https://a.example/news/1.html")
    assert looks_like_non_article("https://a.example/tag/gaza") == "url_tag"
    assert looks_like_non_article("https://a.example/author/ali/") == "url_author"
    assert looks_like_non_article("https://a.example/news/2025/story") is None
