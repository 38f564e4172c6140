"""Fuzz suite (Hypothesis): extraction, feed/sitemap/robots parsing, URL handling, import records.

Properties: nothing raises, every input takes under 5 s (``MAX_INPUT_S``), what comes out fits
where it goes (valid URLs, column sizes, no NUL). ``make test`` runs a short pass (the
``default`` profile); ``make fuzz`` (``scripts/fuzz.py``, ``FUZZ_SECONDS=600``) runs every target
round-robin for that long and reports the number of inputs tried. Each failure found is kept
below as an ``@example`` (a regression test that runs on every pass).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.discovery.feeds import classify_links, maybe_gunzip, parse_feed, parse_sitemap, sitemaps_from_robots
from crawler.extract import extract_article
from crawler.extract.dates import parse_machine_date, text_date
from crawler.storage.importer import MAX_ATTRIBUTION, MAX_PUBLISHED, MAX_SITE, BadRecord, record_to_item
from crawler.urls import MAX_URL_CHARS, canonical_url_or_none, invalid_reason, join_url, looks_like_non_article, url_host

MAX_INPUT_S = 5.0
#: Inputs tried per target, counted for scripts/fuzz.py's report.
TRIED: Counter[str] = Counter()

settings.register_profile(
    "default", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long", max_examples=500, deadline=None, suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("FUZZ_PROFILE", "default"))


class _Timer:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        TRIED[self.name] += 1
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        took = time.perf_counter() - self.start
        assert took < MAX_INPUT_S, f"{self.name}: one input took {took:.1f} s"


# -- strategies -----------------------------------------------------------------------------------

HOSTILE_CHARS = st.sampled_from(
    [" ", "\t", "\n", "\x0b", "\x0c", "\x00", "\x1f", "\u200f", "\ufeff", "،", "-", "/", ".", "(", ")", "|", ":",
     "!", "#", "[", "]", "<", ">", "&", ";", "'", '"', "1", "9", "٣", "ا", "م", "a", "Z", "\ud7ff", "\U0001f600"]
)
TEXTISH = st.one_of(
    st.text(max_size=200),
    st.builds(lambda c, n, tail: c * n + tail, HOSTILE_CHARS, st.integers(0, 20_000), st.text(max_size=20)),
    st.lists(st.sampled_from(["اقرأ أيضا", "تعليقات", "المصدر:", "12 مايو 2024", "منذ ساعتين", "بقلم", " | ", "http://[x/",
                              "2024-05-12T10:00:00+03:00", "كلمات دلالية:", "١٢/٠٥/٢٠٢٤", "x" * 50]),
             max_size=30).map(" ".join),
)
TAGS = st.sampled_from(["p", "div", "span", "a", "br", "time", "h1", "h2", "li", "ul", "article", "section", "aside",
                        "nav", "footer", "script", "table", "td", "b", "figure"])
ATTRS = st.sampled_from(["", " class='related'", " class='tags'", " href='http://[x/'", " href='/news/1'",
                         " datetime='12  2024'", " itemprop='datePublished'", " type='application/ld+json'",
                         " rel='canonical' href='http://[x/'", " hidden", " style='display:none'"])


@st.composite
def html_pages(draw: Any) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            parts.append(f"<{draw(TAGS)}{draw(ATTRS)}>")
        elif kind == 1:
            parts.append(f"</{draw(TAGS)}>")
        elif kind == 2:
            parts.append(draw(TEXTISH))
        elif kind == 3:
            parts.append("<script type='application/ld+json'>" + draw(JSONISH_TEXT) + "</script>")
        else:
            parts.append(draw(st.sampled_from(["<br>" * draw(st.integers(0, 2000)), "<p>" * draw(st.integers(0, 2000)),
                                               "<div>" * draw(st.integers(0, 300)), "<!--", "<![CDATA[", "&#0;"])))
    return "<html><head><title>" + draw(TEXTISH) + "</title></head><body>" + "".join(parts) + "</body></html>"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXTISH,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["@type", "headline", "datePublished", "author", "name", "keywords", "@graph", "url",
                         "headline2", "publisher"]), children, max_size=5),
    max_leaves=20,
)
JSONISH_TEXT = st.one_of(JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False)), st.text(max_size=100),
                         st.integers(0, 5000).map(lambda n: "[" * n))

URLS = st.one_of(
    st.text(max_size=100),
    st.builds(lambda s, h, p, q: f"{s}{h}{p}{q}", st.sampled_from(["http://", "https://", "ftp://", "", "//", "http:"]),
              st.sampled_from(["a.example", "[x", "[::1]", "a.example:99999", "a.example:x", "\u2100.com", "", "A.EXAMPLE.",
                               "xn--", "a b", "[", "amp.a.example"]),
              st.text(max_size=30), st.sampled_from(["", "?utm_x=1&b=2", "#f", "?page=2", "?" + "a=1&" * 50])),
)


# -- targets --------------------------------------------------------------------------------------

@given(html_pages(), st.one_of(st.none(), URLS))
@example("<html><body><div><h3>اقرأ أيضا</h3><a href='http://[x/'>عنوان خبر مرتبط بالمفاوضات</a></div>"
         "\x0bنص</body></html>", "https://a.example/n/1")
@example("<html><body><time datetime='12" + " " * 20_000 + "x'>x</time></body></html>", None)
def test_extraction_never_raises(html: str, url: str | None) -> None:
    with _Timer("extract"):
        for data in (html, html.encode("utf-8", "surrogatepass")):
            result = extract_article(data, url, time_budget=None)
            assert result.reason != "error", result
            assert result.is_article or result.reason


@given(st.binary(max_size=2000) | TEXTISH.map(lambda t: t.encode("utf-8", "surrogatepass")), URLS)
@example(b"\x1f\x8b\x08\x00" + b"\xff" * 40, "https://a.example/")
def test_feed_and_sitemap_parsers_never_raise(body: bytes, base: str) -> None:
    with _Timer("feeds"):
        report: Counter[str] = Counter()
        parse_feed(body, base, report)
        parse_sitemap(body, report)
        maybe_gunzip(body, report)
        sitemaps_from_robots(body.decode("utf-8", "replace"), base, report)


@given(st.lists(URLS, max_size=30), st.lists(TEXTISH, max_size=5), st.sampled_from(["urlset", "sitemapindex", "rss"]))
def test_structured_feeds_keep_every_valid_entry(locs: list[str], titles: list[str], kind: str) -> None:
    from xml.sax.saxutils import escape

    with _Timer("structured_feeds"):
        clean = [escape(u.replace("\x00", "")) for u in locs]
        if kind == "rss":
            body = "<rss><channel>" + "".join(f"<item><link>{u}</link></item>" for u in clean) + "</channel></rss>"
            entries = parse_feed(body.encode("utf-8", "surrogatepass"), "https://a.example/feed")
        else:
            item = "url" if kind == "urlset" else "sitemap"
            body = f"<{kind}>" + "".join(f"<{item}><loc>{u}</loc></{item}>" for u in clean) + f"</{kind}>"
            entries = parse_sitemap(body.encode("utf-8", "surrogatepass"))[1]
        for entry in entries:
            assert invalid_reason(entry.url) is None


@given(URLS, URLS)
@example("http://[x/", "http://[x/")
@example("https://a.example:99999/", "/x")
def test_url_helpers_never_raise(base: str, href: str) -> None:
    with _Timer("urls"):
        joined = join_url(base, href)
        assert joined is None or invalid_reason(joined) is None
        canonical = canonical_url_or_none(href)
        assert canonical is None or isinstance(canonical, str)
        url_host(href), looks_like_non_article(href)
        links = classify_links(base, [(href, "التالي", "next"), (base, "", "")])
        assert all(isinstance(u, str) for u in links.links + links.pagination)


@given(st.dictionaries(
    st.sampled_from(["url", "title", "text", "paragraphs", "site", "source", "published_at", "date", "authors",
                     "author", "tags", "attribution", "related_headlines", "fetched_at"]),
    JSON_VALUES | URLS, max_size=14))
@example({"url": "https://a.example/1", "title": "t", "text": "x", "related_headlines": [{"headline": 5}]})
@example({"url": "http://[x/", "title": "t", "text": "x"})
@example({"url": "https://a.example/1", "title": "t", "text": "x", "site": "a\x00", "published_at": "1" * 41})
def test_import_records_are_validated_as_a_whole(rec: dict[str, Any]) -> None:
    with _Timer("import_records"):
        try:
            item = record_to_item(rec, None)
        except BadRecord:
            return
        assert invalid_reason(item.url) is None and len(canonical_url_or_none(item.url) or "") <= MAX_URL_CHARS
        assert 0 < len(item.site) <= MAX_SITE and "\x00" not in item.site
        assert item.published_at is None or (len(item.published_at) <= MAX_PUBLISHED and "\x00" not in item.published_at)
        assert item.attribution is None or (len(item.attribution) <= MAX_ATTRIBUTION and "\x00" not in item.attribution)
        json.dumps([item.authors, item.tags, item.related_headlines])
        for entry in item.related_headlines:
            assert isinstance(entry, str) or isinstance(entry["headline"], str)


@given(TEXTISH)
def test_dates_never_raise(text: str) -> None:
    with _Timer("dates"):
        text_date(text, 2030)
        parse_machine_date(text, 2030)
