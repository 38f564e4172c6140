"""Discovery that survives real pages (issue 10): ``<base href>``, ``<link rel="next">``, media titles.

Pure parsers on saved documents (crawler/discovery/feeds.py) and the spider's page callback on
saved responses. The crawl of a site whose section pages carry malformed links is in
tests/test_crawl_badlinks.py.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
from scrapy.http import HtmlResponse, Request

from crawler.discovery.feeds import classify_links, page_links, parse_feed, parse_sitemap
from crawler.items import ArticleItem
from tests.test_spider import spider

IMAGE_VIDEO_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url>
  <image:image><image:loc>https://a.example/img/1.jpg</image:loc><image:title>صورة المؤتمر</image:title>
   <image:caption>الوزير في المؤتمر</image:caption></image:image>
  <loc>https://a.example/news/1</loc>
  <lastmod>2025-10-15</lastmod>
 </url>
 <url>
  <loc>https://a.example/news/2</loc>
  <video:video><video:thumbnail_loc>https://a.example/t/2.jpg</video:thumbnail_loc>
   <video:title>فيديو: لحظة الافتتاح</video:title><video:description>مقطع</video:description>
   <video:publication_date>2020-01-01T00:00:00+00:00</video:publication_date></video:video>
  <news:news><news:publication><news:name>A</news:name><news:language>ar</news:language></news:publication>
   <news:publication_date>2025-10-15T09:42:00+03:00</news:publication_date>
   <news:title>افتتاح المعرض الدولي للكتاب</news:title></news:news>
 </url>
 <url>
  <loc>https://a.example/news/3</loc>
  <video:video><video:title>فيديو وحده</video:title>
   <video:publication_date>2020-01-01T00:00:00+00:00</video:publication_date></video:video>
 </url>
</urlset>""".encode()


def _links(html: str, url: str) -> tuple[list[str], list[str]]:
    found = page_links(lxml.html.fromstring(html), url)
    links = classify_links(url, found.anchors, base=found.base)
    return links.links, links.pagination


# -- <base href> -------------------------------------------------------------------------------

def test_relative_links_resolve_against_base_href() -> None:
    html = ("<html><head><base href='https://cdn.a.example/ar/'></head><body>"
            "<a href='news/1'>خبر</a><a href='/news/2'>خبر</a><a href='https://a.example/news/3'>خبر</a>"
            "</body></html>")
    links, _ = _links(html, "https://a.example/section/world")
    assert links == ["https://cdn.a.example/ar/news/1", "https://cdn.a.example/news/2", "https://a.example/news/3"]


def test_a_relative_base_href_resolves_against_the_page() -> None:
    html = "<html><head><base href='/ar/'></head><body><a href='news/1'>خبر</a></body></html>"
    assert _links(html, "https://a.example/section/world")[0] == ["https://a.example/ar/news/1"]


def test_only_the_first_base_counts_and_a_malformed_one_is_ignored() -> None:
    first = ("<html><head><base href='https://a.example/one/'><base href='https://a.example/two/'></head>"
             "<body><a href='n'>x</a></body></html>")
    assert _links(first, "https://a.example/")[0] == ["https://a.example/one/n"]
    bad = "<html><head><base href='http://[bad/'></head><body><a href='news/1'>x</a></body></html>"
    assert _links(bad, "https://a.example/s/")[0] == ["https://a.example/s/news/1"]


def test_without_base_links_resolve_against_the_page() -> None:
    assert _links("<html><body><a href='news/1'>x</a></body></html>", "https://a.example/s/")[0] == [
        "https://a.example/s/news/1"]


# -- <link rel="next"> ---------------------------------------------------------------------------

def test_link_rel_next_in_head_is_pagination() -> None:
    html = ("<html><head><link rel='stylesheet' href='/s.css'><link rel='prev' href='/world?page=1'>"
            "<link rel='Next' href='/world?page=3'><link rel='canonical' href='/world?page=2'></head>"
            "<body><a href='/news/9'>خبر</a></body></html>")
    links, pagination = _links(html, "https://a.example/world?page=2")
    assert pagination == ["https://a.example/world?page=3"]
    assert links == ["https://a.example/news/9"]


def test_a_malformed_link_rel_next_is_one_dropped_link() -> None:
    html = "<html><head><link rel='next' href='http://[bad/2'></head><body><a href='/n/1'>x</a></body></html>"
    found = page_links(lxml.html.fromstring(html), "https://a.example/world")
    links = classify_links("https://a.example/world", found.anchors, base=found.base)
    assert links.links == ["https://a.example/n/1"] and links.pagination == []
    assert links.invalid["invalid_url"] == 1


def test_the_spider_follows_link_rel_next_as_a_listing_and_honours_base(tmp_path: Path) -> None:
    s = spider(tmp_path)
    html = ("<html><head><base href='https://alpha.example/ar/'><link rel='next' href='section?page=2'></head>"
            "<body><a href='news/8'>خبر</a><a href='http://[bad/x'>مكسور</a><a href='news/9'>خبر</a>"
            "</body></html>").encode()
    request = Request("https://alpha.example/section", meta={"source": "alpha", "kind": "start", "news_depth": 0})
    out = list(s.parse_page(HtmlResponse(request.url, body=html, encoding="utf-8", request=request)))
    assert not any(isinstance(o, ArticleItem) for o in out)  # a start page is not an article
    by_url = {r.url: r.meta["kind"] for r in out}
    assert by_url == {"https://alpha.example/ar/section?page=2": "listing",
                      "https://alpha.example/ar/news/8": "page", "https://alpha.example/ar/news/9": "page"}
    assert s.crawler.stats.get_value("discovery/dropped/invalid_url") == 1


# -- image and video sitemaps, Media RSS ---------------------------------------------------------

def test_image_and_video_titles_are_never_the_news_title() -> None:
    kind, entries = parse_sitemap(IMAGE_VIDEO_SITEMAP)
    assert kind == "urlset"
    by_url = {e.url: e for e in entries}
    assert list(by_url) == ["https://a.example/news/1", "https://a.example/news/2", "https://a.example/news/3"]
    assert by_url["https://a.example/news/1"].title is None  # image:title is the picture's
    assert by_url["https://a.example/news/1"].lastmod == "2025-10-15"
    assert by_url["https://a.example/news/2"].title == "افتتاح المعرض الدولي للكتاب"
    assert by_url["https://a.example/news/2"].published == "2025-10-15T09:42:00+03:00"  # not the video's date
    assert by_url["https://a.example/news/3"].title is None and by_url["https://a.example/news/3"].published is None


def test_an_image_loc_before_the_entry_loc_is_not_the_entry() -> None:
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"><url><image:image>
 <image:loc>https://a.example/img/1.jpg</image:loc></image:image><loc>https://a.example/news/1</loc></url></urlset>"""
    assert [e.url for e in parse_sitemap(body)[1]] == ["https://a.example/news/1"]


def test_undeclared_news_prefix_still_gives_the_news_title() -> None:
    body = ("<urlset><url><loc>https://a.example/n/1</loc><image:image><image:title>صورة</image:title>"
            "</image:image><news:news><news:title>الخبر</news:title></news:news></url></urlset>").encode()
    assert parse_sitemap(body)[1][0].title == "الخبر"


def test_media_rss_title_is_not_the_item_title() -> None:
    feed = """<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<item><media:content url="https://a.example/v.mp4"><media:title>مقطع الفيديو</media:title></media:content>
<media:title>صورة الخبر</media:title><title>عنوان الخبر</title><link>https://a.example/n/1</link></item>
</channel></rss>""".encode()
    assert [(e.url, e.title) for e in parse_feed(feed, "https://a.example/rss")] == [
        ("https://a.example/n/1", "عنوان الخبر")]
