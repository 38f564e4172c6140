"""Canonical URLs: one article, one row."""

import pytest

from crawler.urls import canonical_url, is_probably_not_html, looks_like_non_article
from tests.support import corpora

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


# -- canonical_url's own encoding of plain URLs: the same string as w3lib's canonicalize_url -------
def canonical_both_ways(monkeypatch: pytest.MonkeyPatch, url_list: list[str]) -> tuple[list, list]:
    import re

    from crawler import urls

    def canonical() -> list[str | None]:
        urls._canonical_cached.cache_clear()
        return [urls.canonical_url_or_none(u) for u in url_list]

    fast = canonical()
    with monkeypatch.context() as m:
        m.setattr(urls, "_PLAIN_NETLOC", re.compile(r"(?!)"))  # matches nothing: every URL through w3lib
        slow = canonical()
    urls._canonical_cached.cache_clear()
    return fast, slow


@pytest.mark.skipif(not corpora.CORPORA, reason="the shared corpora are absent")
def test_plain_urls_are_encoded_as_w3lib_would_on_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    url_list = [rec["url"] for rec in corpora.records() if isinstance(rec.get("url"), str)]
    fast, slow = canonical_both_ways(monkeypatch, url_list)
    assert fast == slow
    assert all(fast)


def test_plain_urls_are_encoded_as_w3lib_would_for_every_character(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ASCII, Latin-1 and Arabic character, and every 7th other BMP one, inside a path."""
    cps = [*range(0x100), *range(0x600, 0x700), *range(0x100, 0x10000, 7)]
    url_list = [f"http://news.example/a{chr(cp)}b/{chr(cp)}" for cp in cps]
    fast, slow = canonical_both_ways(monkeypatch, url_list)
    assert fast == slow


def test_plain_urls_are_encoded_as_w3lib_would_on_random_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    rnd = random.Random(13)
    starts = ["http://", "https://", "HTTP://", "ftp://", "http:", "//", "https://user:pw@"]
    hosts = ["news.example", "NEWS.Example", "amp.news.example", "a_b.example", "xn--mgbh0fb.example", "مثال.example",
             "news.example.", "news.example:80", "news.example:443", "news.example:8080", "news.example:99999",
             "[::1]", "", "-.example", "news..example"]
    pieces = ["/", "/", "a", "Z", "9", "-", ".", "..", "/./", "/../", "%", "%41", "%2F", "%d8%a8", ";", ";p=1", "?",
              "%2f", "%25", "%2525", "%3b", "%3B", "%3f", "%3F", "%2E", "%2e", "%20", "%7E", "%G1", "%E2%80", "%ff", "%D8",
              "?q=1", "?utm_source=x", "#", "#f", " ", "\t", "\\", "[", "]", "|", "~", "'", "!", "*", "+", "=", "&",
              "@", ":", "خبر", "أخبار", "\u00a0", "\u3000", "😀", "\ud800", "\ufeff", "é", "amp", "/amp", ".html"]
    url_list = [rnd.choice(starts) + rnd.choice(hosts) + "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
                for _ in range(20_000)]
    # and as many that the shortcut takes, mostly: plain hosts, paths of escapes, dots and letters
    path_pieces = [p for p in pieces if p[0] not in "?#; \t\\[]"]
    url_list += [rnd.choice(starts[:2]) + rnd.choice(hosts[:3]) + "/"
                 + "".join(rnd.choice(path_pieces) for _ in range(rnd.randint(0, 8))) for _ in range(20_000)]
    fast, slow = canonical_both_ways(monkeypatch, url_list)
    assert fast == slow
