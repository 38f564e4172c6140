"""Parsing of what leads to articles: feeds, sitemaps, robots.txt and listing pages.

Pure functions over bytes or parsed HTML, so that they are tested on saved
documents without a crawl. The spider (``spiders/news.py``) decides what to
request; this module only reads.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from parsel.selector import create_root_node

from crawler.urls import MAX_URL_CHARS, invalid_reason, join_url, split_url

logger = logging.getLogger(__name__)

__all__ = [
    "Entry",
    "LinkSet",
    "PageLinks",
    "classify_links",
    "entry_modified",
    "maybe_gunzip",
    "page_links",
    "parse_feed",
    "parse_sitemap",
    "read_page_links",
    "sitemaps_from_robots",
]

# huge_tree: a text node over libxml2's 10 MB limit would otherwise be cut and end the parse
# (every entry after it lost); it is read whole and skipped here instead. Entities are never
# resolved and nothing is fetched, so the limit guarded nothing else. Bodies are capped below.
_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)
_MAX_GUNZIP = 50 * 1024 * 1024
#: Text nodes longer than this (a title, a date, a URL) are skipped with a count, not cut.
MAX_TEXT_CHARS = 64 * 1024


def _count(report: Counter[str] | None, reason: str) -> None:
    if report is not None:
        report[reason] += 1


@dataclass(frozen=True)
class Entry:
    """A link found in a feed or a sitemap, with what it says of the page."""

    url: str
    title: str | None = None
    published: str | None = None
    lastmod: str | None = None


def maybe_gunzip(body: bytes, report: Counter[str] | None = None) -> bytes:
    """Decompress a gzip body (a ``.gz`` sitemap); other bodies pass through.

    A corrupt or truncated gzip body is empty (counted as ``broken_gzip``), never an exception.
    """
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
            data = f.read(_MAX_GUNZIP + 1)
    except (OSError, EOFError, zlib.error) as exc:
        logger.warning("Broken gzip body: %s", exc)
        _count(report, "broken_gzip")
        return b""
    if len(data) > _MAX_GUNZIP:
        _count(report, "gunzip_capped")
    return data[:_MAX_GUNZIP]


def _local(tag: object) -> str:
    """The local name of an element: ``{ns}title`` and, when a prefix was never declared, ``news:title`` -> ``title``."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower() if isinstance(tag, str) else ""


def _text(el: etree._Element | None, report: Counter[str] | None = None) -> str | None:
    if el is None:
        return None
    value = "".join(el.itertext()).strip()
    if len(value) > MAX_TEXT_CHARS:
        _count(report, "oversized_text")
        return None
    return value or None


def _child(el: etree._Element, *names: str) -> etree._Element | None:
    for child in el.iter():
        if child is not el and _local(child.tag) in names:
            return child
    return None


#: Media extensions (namespaced, or with a prefix never declared), whose <title> names a picture or a clip.
_MEDIA_TAGS = ("{http://search.yahoo.com/mrss/}", "{http://www.google.com/schemas/sitemap-image/1.1}",
               "{http://www.google.com/schemas/sitemap-video/1.1}", "media:", "image:", "video:")


def _feed_title(item: etree._Element) -> etree._Element | None:
    """The item's own ``<title>`` (RSS, Atom, RDF, Dublin Core), never a Media RSS ``media:title``."""
    for child in item:
        tag = child.tag
        if isinstance(tag, str) and _local(tag) == "title" and not tag.startswith(_MEDIA_TAGS):
            return child
    return None


def _root(body: bytes, report: Counter[str] | None = None) -> etree._Element | None:
    body = maybe_gunzip(body, report)[:_MAX_GUNZIP].lstrip()
    if not body:
        return None
    try:
        return etree.fromstring(body, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError, MemoryError):
        return None


def parse_sitemap(body: bytes, report: Counter[str] | None = None) -> tuple[str, list[Entry]]:
    """Read a sitemap: ``("index", children)`` or ``("urlset", pages)``.

    News sitemaps (``news:title``, ``news:publication_date``) keep their title
    and date on each entry. Returns ``("invalid", [])`` for anything else.
    Never raises: an entry with a malformed or oversized ``loc`` is skipped and
    counted in *report* (``invalid_url/<reason>``, ``oversized_text``), the
    others are kept.
    """
    root = _root(body, report)
    if root is None:
        return "invalid", []
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        return "invalid", []
    entries = []
    for node in root:
        if _local(node.tag) not in ("sitemap", "url"):
            continue
        # Only the entry's own <loc>/<lastmod> and its <news:news> block count: image and video
        # extensions carry their own loc, title and publication_date (image:title, video:title,
        # video:publication_date), which are never the article's.
        loc_el = lastmod_el = news = None
        for child in node:
            name = _local(child.tag)
            if name == "loc" and loc_el is None:
                loc_el = child
            elif name == "lastmod" and lastmod_el is None:
                lastmod_el = child
            elif name == "news" and news is None:
                news = child
        loc = _text(loc_el, report)
        if not loc:
            continue
        if reason := invalid_reason(loc):
            _count(report, f"invalid_url/{reason}")
            continue
        news_title = published = None
        if news is not None:
            news_title = _text(_child(news, "title"), report)
            published = _text(_child(news, "publication_date"), report)
        lastmod = _text(lastmod_el, report)
        entries.append(Entry(loc, news_title, published, lastmod))
    return ("index" if kind == "sitemapindex" else "urlset"), entries


def parse_feed(body: bytes, base_url: str, report: Counter[str] | None = None) -> list[Entry]:
    """Read an RSS 2.0, RSS 1.0 (RDF) or Atom feed into entries.

    Never raises: an item whose link is malformed is skipped and counted in
    *report* (``invalid_url``), the others are kept.
    """
    root = _root(body, report)
    if root is None:
        return []
    entries = []
    for node in root.iter():
        name = _local(node.tag)
        if name not in ("item", "entry"):
            continue
        link = None
        for child in node:
            if _local(child.tag) != "link":
                continue
            href = child.get("href")
            rel = child.get("rel", "alternate")
            if href and rel == "alternate":
                link = href
                break
            if not href and (text := _text(child, report)):
                link = text
                break
        if not link:
            guid = _child(node, "guid")
            if guid is not None and guid.get("isPermaLink", "true") != "false":
                link = _text(guid, report)
        if not link:
            continue
        url = join_url(base_url, link)
        if url is None:
            _count(report, "invalid_url")
            continue
        published = _text(_child(node, "pubdate", "published", "date", "updated"), report)
        entries.append(Entry(url, _text(_feed_title(node), report), published))
    return entries


def sitemaps_from_robots(text: str, base_url: str, report: Counter[str] | None = None) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt, made absolute (malformed ones skipped, counted)."""
    urls = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            url = join_url(base_url, value[:MAX_URL_CHARS + 1])
            if url is None:
                _count(report, "invalid_url")
            else:
                urls.append(url)
    return urls


def entry_modified(entry: Entry) -> datetime | None:
    """When a sitemap entry last changed: its ``lastmod``, else its news publication date.

    W3C datetimes (``2025-10-15``, ``2025-10-15T08:30:00+03:00``, ``...Z``); a
    value without a zone is taken as UTC. None when there is no readable date.
    """
    for value in (entry.lastmod, entry.published):
        if not value:
            continue
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


_PAGINATION = re.compile(
    r"(?:[?&](?:page|p|paged|pg|start|offset)=\d+)|(?:/page/\d+/?$)|(?:/\d+/?$)", re.IGNORECASE
)
_NEXT_WORDS = re.compile(r"^(?:التالي|التالية|المزيد|next|older|»|›|>>)", re.IGNORECASE)


@lru_cache(maxsize=1 << 15)  # the same links recur on every page of a site
def _resolve(against: str, href: str) -> tuple[str, str] | None:
    """*href* made absolute against *against*, without its fragment, and its path without a final slash."""
    joined = join_url(against, href, any_scheme=True)
    if joined is None:
        return None
    url = joined.split("#", 1)[0]
    return url, urlsplit(url).path.rstrip("/")


@dataclass
class LinkSet:
    """The links of a page, sorted by what they probably lead to."""

    pagination: list[str]
    links: list[str]
    #: Links dropped because their URL is malformed (``http://[x/``), by reason.
    invalid: Counter[str] = field(default_factory=Counter)


@dataclass
class PageLinks:
    """What a parsed HTML page offers to follow: its ``(href, text, rel)`` anchors and its base URL."""

    anchors: list[tuple[str, str, str]]
    #: The URL relative links resolve against: ``<base href>`` when the page has one, else the page's URL.
    base: str


def page_links(root: etree._Element, page_url: str) -> PageLinks:
    """Read the links of a parsed HTML page (lxml root), in document order.

    ``<a href>`` anchors with their text and ``rel``; ``<link rel="next">`` (a listing's next
    page, usually in ``<head>``) as an anchor with ``rel="next"``; the first ``<base href>``
    (resolved against *page_url*, as browsers do; a malformed one is ignored) as the base.
    Never raises; the hrefs are not validated here (:func:`classify_links` does, one by one).
    """
    anchors: list[tuple[str, str, str]] = []
    base: str | None = None
    # One walk of the tree, filtered in C: an XPath or a selector per link costs more than the parse.
    for el in root.iter("a", "link", "base"):
        href = el.get("href")
        if href is None:
            continue
        tag = el.tag
        if tag == "a":
            anchors.append((href, " ".join("".join(el.itertext()).split()), el.get("rel") or ""))
        elif tag == "link":
            if "next" in (el.get("rel") or "").lower().split():
                anchors.append((href, "", "next"))
        elif base is None:
            base = join_url(page_url, href) or page_url
    return PageLinks(anchors, base or page_url)


def read_page_links(html: str, page_url: str) -> PageLinks:
    """Parse *html* as Scrapy's ``response.selector`` does (parsel's recovering lxml HTML parser) and read its links.

    Safe on any thread: the spider runs it on its link thread, where libxml2's parse (which
    releases the GIL) overlaps the reactor's work; only plain values leave it.
    """
    return page_links(create_root_node(html, lxml.html.HTMLParser, base_url=page_url), page_url)


def classify_links(base_url: str, anchors: list[tuple[str, str, str]], *, base: str | None = None) -> LinkSet:
    """Split ``(href, text, rel)`` anchors of the page at *base_url* into pagination links and other links.

    Relative hrefs resolve against *base* (the page's ``<base href>``, see :func:`page_links`)
    when given, else against *base_url*. Each href is validated on its own: a malformed one is
    counted in ``invalid`` and the others are kept.

    Pagination: ``rel=next``, "التالي" / "next" anchors, and ``?page=N`` or
    ``/page/N`` forms of the same path.
    """
    base_parts = split_url(base_url)
    base_path = base_parts.path.rstrip("/") if base_parts else ""
    against = base or base_url
    # A root-relative href ("/news/1") resolves against the origin alone, so its result is
    # shared by every page of the site (the cache below hits on nav, footer and related links).
    against_parts = split_url(against) if base else base_parts
    origin = f"{against_parts.scheme}://{against_parts.netloc}" if against_parts else against
    pagination, links, seen = [], [], set()
    invalid: Counter[str] = Counter()
    for href, text, rel in anchors:
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "whatsapp:")):
            continue
        if not base_parts:
            resolved = None
        elif href[0] == "/" and href[1:2] != "/":
            resolved = _resolve(origin, href)
        else:
            resolved = _resolve(against, href)
        if resolved is None:  # one malformed link is one dropped link, never the page's links
            invalid["invalid_url"] += 1
            continue
        url, path = resolved
        if url in seen or url == base_url:
            continue
        seen.add(url)
        same_section = path == base_path or path.startswith(base_path + "/page") or (
            base_path and path.rsplit("/", 1)[0] == base_path and path.rsplit("/", 1)[-1].isdigit()
            and len(path.rsplit("/", 1)[-1]) <= 3
        )
        is_next = "next" in (rel or "").lower().split() or bool(_NEXT_WORDS.match((text or "").strip()))
        if is_next or (same_section and _PAGINATION.search(url)):
            pagination.append(url)
        else:
            links.append(url)
    return LinkSet(pagination, links, invalid)
