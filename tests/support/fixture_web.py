"""The TEST web: five Arabic news sites with different markup and discovery paths.

``build_fixture_web(dest)`` writes it (deterministic, well under a second); serve it with
:class:`crawler.demo.server.WebServer` and crawl it with the sources of
:func:`fixture_sources_yaml`.

=========  ==========  ==========================================================================
site       template    what it exercises
=========  ==========  ==========================================================================
waha       aggregator  feed-only discovery: the sources give only ``/rss.xml``; RSS item links
                       carry ``?utm_source=rss``
sahil      modern      Atom feed ``/atom.xml``; JSON-LD; AMP variants ``/amp/article/N``
                       (rel=canonical to the main URL) linked from the home page
mirsad     wordpress   sitemap index (gzip article sitemap + Google news sitemap) found only via
                       robots.txt ``Sitemap:`` lines; sources give only the home page
nahar      wordpress   paginated sections only (``/category/x/page/2/``), no feeds, no sitemaps;
                       a calendar trap under ``/calendar/`` linked from every page;
                       ``?utm_...`` and ``#comments`` links to the same articles
qadima     legacy      windows-1256 table layout; charset only in the header / only in <meta> /
                       nowhere, one ISO-8859-6 page, one page whose header says iso-8859-1
                       while the bytes are windows-1256 (mojibake to detect and re-decode);
                       ``/news.php?id=N`` URLs
=========  ==========  ==========================================================================

Every site has non-article pages (sections, tags, author, about, contact, privacy, a video
stub, an English page) and a robots-disallowed ``/private/`` article linked from its pages.
Three wire stories are republished across sites as near-duplicate copies (see the web
manifest's ``duplicate_groups``; the first key of a group is the original).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from crawler.demo.builder import SiteSpec, build_web
from crawler.demo.site import sources_yaml
from crawler.demo.texts import make_stories

if TYPE_CHECKING:
    from crawler.demo.server import WebServer

__all__ = ["FIXTURE_SPECS", "FIXTURE_WIRES", "build_fixture_web", "fixture_sources_yaml"]

FIXTURE_SPECS: tuple[SiteSpec, ...] = (
    SiteSpec("waha", "بوابة الواحة الإخبارية", "aggregator", url_style="news", feeds=("rss",),
             robots_sitemaps=False, feed_link_suffix="?utm_source=rss&utm_medium=feed"),
    SiteSpec("sahil", "الساحل اليوم", "modern", url_style="article", feeds=("atom",), amp=True,
             tracking_links=True, time_offset=-1),
    SiteSpec("mirsad", "المرصاد نيوز", "wordpress", url_style="wp", pagination="path",
             sitemaps="index", robots_sitemaps=True, time_offset=-2, per_page=10),
    SiteSpec("nahar", "النهار الجديد", "wordpress", url_style="news", pagination="path",
             trap="/calendar/", tracking_links=True, time_offset=-3),
    SiteSpec("qadima", "جريدة القديمة", "legacy", url_style="php", encoding="windows-1256",
             charset_cases={0: "header", 1: "meta", 2: "none", 3: "iso-8859-6", 4: "wrong-header",
                            5: "both"}, time_offset=-4),
)
#: wire story -> sites carrying it, the original first
FIXTURE_WIRES: dict[str, list[str]] = {
    "wire-grid": ["sahil", "waha", "mirsad", "qadima"],
    "wire-food": ["nahar", "waha"],
    "wire-quake": ["mirsad", "sahil", "nahar", "waha"],
}
_COUNTS = {"waha": 11, "sahil": 11, "mirsad": 11, "nahar": 11, "qadima": 8}


def build_fixture_web(dest: Path) -> dict[str, Any]:
    """Write the test web under ``dest`` and return its web manifest.

    The web manifest holds, for every article, its site, canonical path, title, snippet and
    story id, the near-duplicate groups, and the disallowed and trap prefixes per site; each
    site folder also has its own ``_manifest.json`` (see :mod:`crawler.demo.builder`).
    """
    stories = make_stories()
    per_site: dict[str, list] = {}
    start = 0
    for spec in FIXTURE_SPECS:
        n = _COUNTS[spec.name]
        per_site[spec.name] = stories[start:start + n]
        start += n
    return build_web(Path(dest), list(FIXTURE_SPECS), per_site, FIXTURE_WIRES)


def fixture_sources_yaml(web: WebServer) -> str:
    """Sources YAML for the served test web, giving each site only its intended entry point.

    waha: its RSS feed only; sahil: home + Atom feed; mirsad: home only (sitemaps via robots.txt);
    nahar: home only; qadima: home only.
    """
    data = yaml.safe_load(sources_yaml(web))
    for entry in data["sources"]:
        if entry["name"] == "waha":  # discovered from its feed alone
            entry.pop("start_urls", None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
