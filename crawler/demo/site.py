"""The bundled sample news web of ``make demo``: three Arabic news sites with different markup.

``build_demo_site(dest)`` writes a "web" folder (one sub-folder per site, served by
:class:`crawler.demo.server.WebServer`):

* ``waha`` -- aggregator style (the seed page's markup), RSS 2.0 at ``/rss.xml``,
  sections paginated as ``/section/x?page=2``.
* ``sahil`` -- WordPress-like, RSS at ``/feed/``, sections paginated as ``/category/x/page/2/``,
  comments, share bar, newsletter box.
* ``mirsad`` -- modern JSON-LD ``NewsArticle`` pages, Atom at ``/atom.xml``, a sitemap index
  (gzip article sitemap + Google news sitemap) listed in robots.txt, AMP variants.

30 distinct stories plus 2 wire stories republished across the sites as near-duplicate
copies; each site has a robots-disallowed ``/private/`` article linked from its pages,
and non-article pages (sections, tags, author, about, contact, video stub, English page).
Everything is deterministic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from crawler.demo.builder import SiteSpec, build_web
from crawler.demo.texts import make_stories

if TYPE_CHECKING:
    from crawler.demo.server import WebServer

__all__ = ["DEMO_SPECS", "build_demo_site", "demo_sources", "sources_yaml"]

DEMO_SPECS: tuple[SiteSpec, ...] = (
    SiteSpec("waha", "بوابة الواحة الإخبارية", "aggregator", url_style="news", pagination="query",
             feeds=("rss",), robots_sitemaps=False),
    SiteSpec("sahil", "صحيفة الساحل", "wordpress", url_style="wp", pagination="path",
             feeds=("wpfeed",), time_offset=-1),
    SiteSpec("mirsad", "المرصاد نيوز", "modern", url_style="article", feeds=("atom",),
             sitemaps="index", robots_sitemaps=True, amp=True, time_offset=-2),
)
DEMO_WIRES: dict[str, list[str]] = {
    "wire-grid": ["mirsad", "waha", "sahil"],
    "wire-food": ["waha", "mirsad"],
}


def build_demo_site(dest: Path) -> dict[str, Any]:
    """Write the demo web under ``dest`` (one folder per site) and return the web manifest.

    Each site folder also gets its own ``_manifest.json``; see :mod:`crawler.demo.builder`.
    """
    stories = make_stories()[:30]
    per_site = {spec.name: stories[i::3] for i, spec in enumerate(DEMO_SPECS)}
    return build_web(Path(dest), list(DEMO_SPECS), per_site, DEMO_WIRES)


def sources_yaml(web: WebServer, manifests: dict[str, dict[str, Any]] | None = None,
                 use_start_urls: bool = True) -> str:
    """YAML sources (CONTRACT.md format) for every site served by ``web``, from their manifests.

    ``feeds`` and ``sitemaps`` are listed when the site's manifest has them, except sitemaps the
    site announces only in robots.txt (the crawler must find those itself).
    """
    sources = []
    for name, server in web.sites.items():
        man = (manifests or {}).get(name) or web.manifest(name)
        entry: dict[str, Any] = {"name": name}
        if use_start_urls and man.get("start_urls"):
            entry["start_urls"] = [server.url(p) for p in man["start_urls"]]
        if man.get("feeds"):
            entry["feeds"] = [server.url(p) for p in man["feeds"]]
        if man.get("sitemaps") and not man.get("robots_sitemaps"):
            entry["sitemaps"] = [server.url(p) for p in man["sitemaps"]]
        entry["allowed_domains"] = [server.host]
        sources.append(entry)
    return yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False)


def demo_sources(web: WebServer) -> str:
    """The YAML text of the sources file for the served demo web.

    Every site gets its home page as start URL and its feeds; ``mirsad`` also lists its
    sitemap index explicitly (it is in its robots.txt too).
    """
    sources = []
    for name, server in web.sites.items():
        man = web.manifest(name)
        entry: dict[str, Any] = {"name": name, "start_urls": [server.url("/")]}
        if man.get("feeds"):
            entry["feeds"] = [server.url(p) for p in man["feeds"]]
        if man.get("sitemaps"):
            entry["sitemaps"] = [server.url(p) for p in man["sitemaps"]]
        entry["allowed_domains"] = [server.host]
        sources.append(entry)
    return yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False)
