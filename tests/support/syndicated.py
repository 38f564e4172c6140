"""A small web of sites that republish the same wire stories (for the shared-crawl dedup tests).

``SyndicatedSite(root, n, site, wires)``: an :class:`~tests.support.incsite.IncSite` whose
first *wires* articles are copies of wire stories carried by every site of the web (the
story's paragraphs plus a sentence naming this site, so copies are near-duplicates,
not exact ones) and whose other articles are stories of its own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from crawler.demo.server import SiteServer
from tests.support.incsite import IncSite

_NAMES = ("الواحة", "الساحل", "المرصاد", "النهار", "القديمة", "الفجر")
_REPORTERS = ("مراسلنا", "محررنا", "موفدنا", "مندوبنا", "كاتبنا", "زميلنا")


class SyndicatedSite(IncSite):
    """Site number *site* of a syndicated web.

    Args:
        root: the site folder.
        n: articles published.
        site: this site's number (0..5): its own sentence and its own stories.
        wires: how many of its first articles are wire copies.
    """

    def __init__(self, root: Path, n: int, site: int, wires: int) -> None:
        self.site, self.wires = site, wires
        super().__init__(root, n)

    def story_index(self, i: int) -> int:
        if i < self.wires:
            return i
        return self.wires + self.site * 8 + i  # stories of its own, apart from every other site's

    def article(self, i: int) -> str:
        story = self.stories[self.story_index(i) % len(self.stories)]
        when = self.when(i)
        own = (f"وقال {_REPORTERS[self.site]} في تقريره لموقع {_NAMES[self.site]} "
               "إن المتابعة مستمرة حتى صدور بيان رسمي جديد.")
        body = "".join(f"<p>{p}</p>\n" for p in [*story.paragraphs(when.replace(tzinfo=None)), own])
        stamp = when.isoformat()
        return (f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
                f"<title>{story.title}</title>"
                f'<meta property="article:published_time" content="{stamp}"></head><body>'
                f'<header><a href="/">الرئيسية</a> <a href="/section/">أخبار</a></header>'
                f"<article><h1>{story.title}</h1><time datetime=\"{stamp}\">{stamp[:10]}</time>\n{body}"
                f"</article><footer>جميع الحقوق محفوظة لموقع {_NAMES[self.site]}</footer></body></html>")

    def _links(self) -> str:
        return "\n".join(f'<li><a href="{self.path(i)}">{self.stories[self.story_index(i) % len(self.stories)].title}'
                         "</a></li>" for i in range(self.n - 1, -1, -1))


def sources_yaml(sites: list[tuple[str, str]], dest: Path) -> Path:
    """A sources file for (name, base URL) pairs."""
    lines = ["sources:"]
    for name, base in sites:
        lines += [f"  - name: {name}", f"    start_urls: [{base}/]", f"    feeds: [{base}/feed.xml]",
                  f"    sitemaps: [{base}/sitemap.xml]"]
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


class GatedSiteServer(SiteServer):
    """A :class:`SiteServer` that answers nothing while its *gate* is closed.

    The shared-crawl test closes it until every worker has started, so that no
    worker can finish the crawl before the last one joins.
    """

    def __init__(self, root: Path, gate: threading.Event, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.gate = gate

    def record(self, rec: Any) -> None:
        self.gate.wait(60)  # the handler records a request before it answers
        super().record(rec)
