"""Feeds, sitemaps and robots.txt of the sample sites (absolute URLs use ``__BASE_URL__``)."""

from __future__ import annotations

import datetime as dt
import email.utils
from html import escape

__all__ = ["atom_feed", "news_sitemap", "robots_txt", "rss_feed", "sitemap_index", "urlset"]

BASE = "__BASE_URL__"

#: one feed entry: (path, title, teaser, published, author, category)
Entry = tuple[str, str, str, dt.datetime, str, str]


def _x(text: str) -> str:
    return escape(text, quote=False)


def rss_feed(brand: str, home: str, entries: list[Entry], link_suffix: str = "") -> str:
    """An RSS 2.0 feed; ``link_suffix`` (e.g. ``?utm_source=rss``) is appended to item links."""
    items = []
    for path, title, teaser, when, author, category in entries:
        items.append(
            "<item>"
            f"<title>{_x(title)}</title>"
            f"<link>{BASE}{_x(path)}{_x(link_suffix)}</link>"
            f'<guid isPermaLink="false">{BASE}{_x(path)}</guid>'
            f"<pubDate>{email.utils.format_datetime(when)}</pubDate>"
            f"<dc:creator>{_x(author)}</dc:creator>"
            f"<category>{_x(category)}</category>"
            f"<description>{_x(teaser)}</description>"
            "</item>")
    last = max((e[3] for e in entries), default=dt.datetime(2025, 10, 15, tzinfo=dt.UTC))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
            f"<channel><title>{_x(brand)}</title><link>{BASE}{_x(home)}</link>"
            f'<atom:link href="{BASE}/rss.xml" rel="self" type="application/rss+xml"/>'
            f"<description>آخر الأخبار من {_x(brand)}</description><language>ar</language>"
            f"<lastBuildDate>{email.utils.format_datetime(last)}</lastBuildDate>\n"
            + "\n".join(items) + "\n</channel>\n</rss>\n")


def atom_feed(brand: str, self_path: str, entries: list[Entry]) -> str:
    """An Atom 1.0 feed."""
    last = max((e[3] for e in entries), default=dt.datetime(2025, 10, 15, tzinfo=dt.UTC))
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">',
           f"<title>{_x(brand)}</title>", f'<link href="{BASE}/"/>',
           f'<link rel="self" href="{BASE}{_x(self_path)}"/>', f"<id>{BASE}/</id>",
           f"<updated>{last.isoformat()}</updated>"]
    for path, title, teaser, when, author, category in entries:
        out.append(
            f"<entry><title>{_x(title)}</title>"
            f'<link rel="alternate" type="text/html" href="{BASE}{_x(path)}"/>'
            f"<id>{BASE}{_x(path)}</id><published>{when.isoformat()}</published>"
            f"<updated>{when.isoformat()}</updated><author><name>{_x(author)}</name></author>"
            f'<category term="{_x(category)}"/><summary>{_x(teaser)}</summary></entry>')
    out.append("</feed>\n")
    return "\n".join(out)


def urlset(items: list[tuple[str, dt.datetime | None]]) -> str:
    """A plain sitemap (``urlset``) of (path, lastmod)."""
    rows = []
    for path, when in items:
        lastmod = f"<lastmod>{when.isoformat()}</lastmod>" if when else ""
        rows.append(f"<url><loc>{BASE}{_x(path)}</loc>{lastmod}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(rows) + "\n</urlset>\n")


def news_sitemap(brand: str, items: list[tuple[str, str, dt.datetime]]) -> str:
    """A Google news sitemap of (path, title, published)."""
    rows = []
    for path, title, when in items:
        rows.append(
            f"<url><loc>{BASE}{_x(path)}</loc><news:news><news:publication>"
            f"<news:name>{_x(brand)}</news:name><news:language>ar</news:language></news:publication>"
            f"<news:publication_date>{when.isoformat()}</news:publication_date>"
            f"<news:title>{_x(title)}</news:title></news:news></url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(rows) + "\n</urlset>\n")


def sitemap_index(paths: list[tuple[str, dt.datetime]]) -> str:
    """A sitemap index of (path, lastmod)."""
    rows = [f"<sitemap><loc>{BASE}{_x(p)}</loc><lastmod>{w.isoformat()}</lastmod></sitemap>" for p, w in paths]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(rows)
            + "\n</sitemapindex>\n")


def robots_txt(disallow: list[str], sitemaps: list[str]) -> str:
    """robots.txt for every agent, with ``Sitemap:`` lines (paths made absolute)."""
    lines = ["User-agent: *"] + [f"Disallow: {d}" for d in disallow] + ["Allow: /", ""]
    lines += [f"Sitemap: {BASE}{s}" for s in sitemaps]
    return "\n".join(lines) + "\n"
