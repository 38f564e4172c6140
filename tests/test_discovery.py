"""Feeds, sitemaps, robots.txt and listing links (crawler/discovery/feeds.py)."""

import gzip

from crawler.discovery.feeds import classify_links, maybe_gunzip, parse_feed, parse_sitemap, sitemaps_from_robots

RSS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>\xd8\xae\xd8\xa8\xd8\xb1</title><link>https://a.example/n/1</link><pubDate>Wed, 15 Oct 2025 09:42:00 +0300</pubDate></item>
<item><title>b</title><guid isPermaLink="true">https://a.example/n/2</guid></item>
<item><title>no link</title></item></channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><title>x</title><link rel="alternate" href="/n/3"/><link rel="edit" href="/edit/3"/><published>2025-10-15T09:00:00Z</published></entry>
</feed>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://a.example/s1.xml.gz</loc><lastmod>2025-10-15</lastmod></sitemap></sitemapindex>"""

NEWS = """<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://a.example/n/4</loc>
<news:news><news:publication><news:name>A</news:name><news:language>ar</news:language></news:publication>
<news:publication_date>2025-10-15T09:42:00+03:00</news:publication_date><news:title>عنوان الخبر</news:title></news:news>
</url></urlset>""".encode()


def test_rss_and_atom() -> None:
    rss = parse_feed(RSS, "https://a.example/rss")
    assert [e.url for e in rss] == ["https://a.example/n/1", "https://a.example/n/2"]
    assert rss[0].title == "خبر" and rss[0].published.startswith("Wed, 15 Oct 2025")
    atom = parse_feed(ATOM, "https://a.example/atom")
    assert [e.url for e in atom] == ["https://a.example/n/3"]
    assert atom[0].published == "2025-10-15T09:00:00Z"


def test_sitemap_index_gzip_and_news() -> None:
    kind, entries = parse_sitemap(INDEX)
    assert kind == "index" and entries[0].url == "https://a.example/s1.xml.gz"
    kind, entries = parse_sitemap(gzip.compress(NEWS))
    assert kind == "urlset"
    assert entries[0].title == "عنوان الخبر"
    assert entries[0].published == "2025-10-15T09:42:00+03:00"


def test_garbage_is_not_a_sitemap() -> None:
    assert parse_sitemap(b"<html><body>hi</body></html>") == ("invalid", [])
    assert parse_sitemap(b"") == ("invalid", [])
    assert parse_sitemap(b"\x1f\x8b broken gzip") == ("invalid", [])
    assert parse_feed(b"not xml", "https://a/") == []
    assert maybe_gunzip(b"plain") == b"plain"


def test_robots_sitemaps() -> None:
    robots = "User-agent: *\nDisallow: /private/\nSitemap: https://a.example/sitemap.xml\nsitemap: /news.xml\n"
    assert sitemaps_from_robots(robots, "https://a.example/robots.txt") == [
        "https://a.example/sitemap.xml",
        "https://a.example/news.xml",
    ]


def test_classify_links_pagination() -> None:
    anchors = [
        ("/world?page=2", "2", ""),
        ("/world/page/3/", "3", ""),
        ("/older", "التالي", ""),
        ("/n/5", "خبر", ""),
        ("#top", "", ""),
        ("javascript:void(0)", "", ""),
        ("/n/5#c", "dup", ""),
        ("/x", "", "next"),
    ]
    links = classify_links("https://a.example/world", anchors)
    assert links.pagination == [
        "https://a.example/world?page=2",
        "https://a.example/world/page/3/",
        "https://a.example/older",
        "https://a.example/x",
    ]
    assert links.links == ["https://a.example/n/5"]
