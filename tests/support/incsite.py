"""A small generated news site for the incremental / crash / lock / cron tests.

``IncSite(root)`` writes a site folder served by :class:`crawler.demo.server.SiteServer`
(ETag / Last-Modified / 304, request log): a home page linking every article and a
section page, an RSS feed, a sitemap with ``<lastmod>``, robots.txt naming the
sitemap, and ``/news/<n>.html`` articles composed from the demo story texts (each
with a sentence of its own, so no two bodies are equal). :meth:`IncSite.add` publishes
more articles; :meth:`IncSite.redesign` breaks the article pages' bodies.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawler.demo.texts import make_stories

REPO = Path(__file__).resolve().parents[2]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "LOG_LEVEL=INFO", "-s", "RETRY_TIMES=0"]
_NUMBERS = ("الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع", "العاشر")


class IncSite:
    """One generated site folder.

    Args:
        root: the folder (created).
        n: articles published at first.
    """

    def __init__(self, root: Path, n: int = 12) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.stories = make_stories()
        self.n = 0
        self.broken = False
        self.add(n)

    def path(self, i: int) -> str:
        return f"/news/{i}.html"

    def when(self, i: int) -> dt.datetime:
        return dt.datetime(2025, 10, 1, 8, 0, tzinfo=dt.UTC) + dt.timedelta(hours=3 * i)

    def article(self, i: int) -> str:
        story = self.stories[i % len(self.stories)]
        when = self.when(i)
        own = (f"وأكد المراسل في التقرير رقم {i} أن المتابعة {_NUMBERS[i % 10]} لهذا الملف مستمرة "
               f"حتى نهاية الأسبوع رقم {i * 7 + 3} وفق ما أعلنته المصادر المحلية في المدينة.")
        paras = [] if self.broken else [*story.paragraphs(when.replace(tzinfo=None)), own]
        body = "".join(f"<p>{p}</p>\n" for p in paras) or "<p>اقرأ المزيد</p>"
        stamp = when.isoformat()
        return (f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
                f"<title>{story.title} ({i})</title>"
                f'<meta property="article:published_time" content="{stamp}"></head><body>'
                f'<header><a href="/">الرئيسية</a> <a href="/section/">أخبار</a></header>'
                f"<article><h1>{story.title} ({i})</h1><time datetime=\"{stamp}\">{stamp[:10]}</time>\n{body}"
                f"</article><footer>جميع الحقوق محفوظة لموقع الاختبار</footer></body></html>")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def _links(self) -> str:
        return "\n".join(f'<li><a href="{self.path(i)}">{self.stories[i % len(self.stories)].title} ({i})</a></li>'
                         for i in range(self.n - 1, -1, -1))

    def write_indexes(self) -> None:
        """Home, section, feed, sitemap and robots.txt for the articles published so far."""
        page = ('<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{t}</title></head>'
                '<body><header><a href="/">الرئيسية</a> <a href="/section/">أخبار</a>'
                ' <a href="/info/team.html">فريق العمل</a></header><main><h1>{t}</h1><ul>{links}</ul></main><footer>جميع الحقوق محفوظة</footer></body></html>')
        self.write("index.html", page.format(t="موقع الاختبار", links=self._links()))
        self.write("section/index.html", page.format(t="أخبار", links=self._links()))
        items = "".join(
            f"<item><title>{self.stories[i % len(self.stories)].title}</title>"
            f"<link>__BASE_URL__{self.path(i)}</link></item>" for i in range(self.n - 1, -1, -1))
        self.write("feed.xml", f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                               f"<title>t</title>{items}</channel></rss>")
        urls = "".join(f"<url><loc>__BASE_URL__{self.path(i)}</loc><lastmod>{self.when(i).date()}</lastmod></url>"
                       for i in range(self.n))
        self.write("sitemap.xml", f'<?xml version="1.0" encoding="utf-8"?>'
                                  f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
        self.write("info/team.html", '<!DOCTYPE html><html lang="ar"><head><meta charset="utf-8"><title>فريق العمل'
                   '</title></head><body><p>فريق العمل في الموقع.</p></body></html>')
        self.write("robots.txt", "User-agent: *\nAllow: /\nSitemap: __BASE_URL__/sitemap.xml\n")
        self._touch_indexes()

    def _touch_indexes(self) -> None:
        # Index files change within the same second: bump mtimes so Last-Modified moves on.
        stamp = 1_760_000_000 + self.n * 60 + (1 if self.broken else 0)
        for rel in ("index.html", "section/index.html", "feed.xml", "sitemap.xml"):
            os.utime(self.root / rel, (stamp, stamp))

    def add(self, k: int) -> list[str]:
        """Publish *k* more articles; returns their paths."""
        new = list(range(self.n, self.n + k))
        for i in new:
            self.write(self.path(i), self.article(i))
        self.n += k
        self.write_indexes()
        return [self.path(i) for i in new]

    def redesign(self) -> list[str]:
        """Publish 8 articles whose bodies the extractor can no longer find."""
        self.broken = True
        return self.add(8)

    def sources(self, base_url: str, name: str = "inc", dest: Path | None = None) -> Path:
        """A sources file for this site served at *base_url*."""
        dest = dest or self.root.parent / f"{name}-sources.yaml"
        dest.write_text(
            f"sources:\n  - name: {name}\n    start_urls: [{base_url}/]\n    feeds: [{base_url}/feed.xml]\n"
            f"    sitemaps: [{base_url}/sitemap.xml]\n", encoding="utf-8")
        return dest


def article_paths(requests: list[Any]) -> list[str]:
    """The article paths in a server request log."""
    return [r.path for r in requests if r.path.startswith("/news/")]


def crawl_cmd(sources: Path, db_url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), "--db", db_url, *FAST, *extra]


def run_crawl(sources: Path, db_url: str, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m crawler crawl`` in a subprocess, from the repository root."""
    return subprocess.run(crawl_cmd(sources, db_url, *extra), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=crawl_env())


def crawl_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["PYTHONPATH"] = str(REPO)
    return env
