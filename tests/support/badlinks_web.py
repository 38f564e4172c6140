"""A local web found from its start pages alone, whose section pages each carry one malformed link.

Issue 10: one malformed link on a page (``href="http://[bad/x"``, "Invalid IPv6 URL") must cost
that link, never the page's other links. ``build_badlinks_web(dest, bad=True)`` writes three sites
of the demo builders (:func:`crawler.demo.builder.build_web`) with no feeds and no sitemaps (only
the home page leads in), then puts one malformed link into every section page (its first page and
its paginated pages); ``bad=False`` writes the same web without them (the control crawl).
Serve it with :class:`crawler.demo.server.WebServer` and crawl it with
:func:`badlinks_sources_yaml`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from crawler.demo.builder import SiteSpec, _file_for, build_web
from crawler.demo.texts import make_stories

if TYPE_CHECKING:
    from crawler.demo.server import WebServer

__all__ = ["BAD_HREFS", "BADLINK_SPECS", "badlinks_sources_yaml", "build_badlinks_web"]

#: one per section page, in turn: each raises ValueError in urllib (or is no usable URL)
BAD_HREFS = ("http://[bad/x", "https://[::1/news/1.html", "http://example.com:99999/x", "http://a\x0bb/x")
# start pages only: no feeds, no sitemaps, nothing in robots.txt
BADLINK_SPECS: tuple[SiteSpec, ...] = (
    SiteSpec("waha", "بوابة الواحة الإخبارية", "aggregator", url_style="news", pagination="query",
             robots_sitemaps=False, per_page=8),
    SiteSpec("sahil", "صحيفة الساحل", "wordpress", url_style="wp", pagination="path",
             robots_sitemaps=False, time_offset=-1, per_page=8),
    SiteSpec("qadima", "جريدة القديمة", "legacy", url_style="php", encoding="windows-1256",
             robots_sitemaps=False, time_offset=-4, per_page=8),
)
_WIRES: dict[str, list[str]] = {"wire-grid": ["waha", "sahil", "qadima"]}


def _poison(path: Path, href: str, encoding: str) -> None:
    """Put one ``<a href=BAD>`` first in the page's body, before every good link of the page."""
    html = path.read_bytes().decode(encoding)
    at = html.index("<body")
    at = html.index(">", at) + 1
    link = f'<a href="{href}">رابط مكسور</a>'
    path.write_bytes((html[:at] + link + html[at:]).encode(encoding, errors="xmlcharrefreplace"))


def build_badlinks_web(dest: Path, bad: bool = True) -> dict[str, Any]:
    """Write the web under *dest*; returns the web manifest plus ``poisoned`` (section pages given a bad link)."""
    stories = make_stories()
    per_site = {spec.name: stories[i::len(BADLINK_SPECS)] for i, spec in enumerate(BADLINK_SPECS)}
    manifest = build_web(Path(dest), list(BADLINK_SPECS), per_site, _WIRES)
    poisoned = 0
    if bad:
        for spec in BADLINK_SPECS:
            site_manifest = json.loads((Path(dest) / spec.name / "_manifest.json").read_text(encoding="utf-8"))
            for page in site_manifest["non_articles"]:
                if page["kind"] != "section":
                    continue
                _poison(Path(dest) / spec.name / _file_for(page["path"]), BAD_HREFS[poisoned % len(BAD_HREFS)],
                        spec.encoding)
                poisoned += 1
    manifest["poisoned"] = poisoned
    return manifest


def badlinks_sources_yaml(web: WebServer) -> str:
    """Sources YAML giving each site its home page alone."""
    sources = [{"name": name, "start_urls": [server.url("/")], "allowed_domains": [server.host]}
               for name, server in web.sites.items()]
    return yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False)
