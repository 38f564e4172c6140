"""Write a "web" folder of sample news sites from site specifications.

:func:`build_web` is shared by the demo (:mod:`crawler.demo.site`) and the test
web (``tests/support/fixture_web.py``). Each site folder gets its pages, feeds,
sitemaps, ``robots.txt``, ``_headers.json``, optional ``_trap.json`` and a
``_manifest.json``; the web folder gets a web-level ``_manifest.json``.

Web manifest: ``sites``, ``templates``, ``articles`` (site, path, title, snippet,
first_paragraph, published_at, story, group = wire story id or null, template, encoding,
charset_case, syndicated_from, disallowed=False), ``expected_articles``, ``distinct_stories``,
``duplicate_groups`` (lists of "site:/path", original first), ``disallowed`` /
``disallowed_prefixes`` ({site: [prefix]}), ``disallowed_articles``, ``traps`` ({site: prefix})
and ``trap_prefixes`` ({site: [prefix]}).

Manifest of a site (paths are URL paths on that site; prefix the base URL):

``articles``            one record per article page: ``path`` (canonical), ``title``,
                        ``paragraphs``, ``first_paragraph``, ``published_at``,
                        ``authors``, ``tags``, ``attribution``, ``section``, ``story``,
                        ``template``, ``syndicated_from`` ("site:/path" or null),
                        ``variants`` (other URLs of the same page: AMP, tracking
                        parameters, fragments), ``boilerplate`` (strings on the
                        page that must not end up in the text), ``encoding``.
``article_paths``       the canonical paths, ``expected_articles`` their number.
``non_articles``        ``[{"path", "kind"}]``: home, section pages and their pages,
                        tag, author, about, contact, privacy, video stub, English page.
``syndicated``          {path: "site:/path of the original"}.
``feeds``, ``sitemaps``, ``robots_sitemaps``, ``start_urls``, ``disallowed``
                        (robots prefixes), ``disallowed_articles``, ``trap_prefix``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from crawler.demo import feeds
from crawler.demo.templates import (ArticleView, SiteInfo, author_slug, render_amp, render_article, render_listing,
                                    render_page)
from crawler.demo.texts import TOPICS, Story, arabic_date, syndicated_copy, wire_story

logger = logging.getLogger(__name__)

__all__ = ["SiteSpec", "build_web"]

TZ = dt.timezone(dt.timedelta(hours=3))
BASE_TIME = dt.datetime(2025, 10, 15, 9, 42, tzinfo=TZ)
#: fixed Last-Modified of every served file (deterministic conditional requests)
LAST_MODIFIED = "Wed, 15 Oct 2025 07:00:00 GMT"

AUTHORS = ("سارة المحمود", "خالد العلي", "ليلى حداد", "محمد الأمين", "رنا الخوري", "أيمن عبد الرحيم")
ATTRIBUTIONS = ("وكالة الأنباء العربية", "صحيفة الفجر الجديد", "موقع الخبر اليوم")
COMMENTS = (
    ("أبو أحمد", "خبر مهم، نتمنى أن نرى النتائج على أرض الواقع قريبا."),
    ("مواطن", "شكرا على التغطية المتميزة والسريعة كالعادة."),
    ("سلمى", "أين المتابعة في الأحياء البعيدة؟ لا أحد يسأل عنا."),
    ("زائر", "نرجو نشر المزيد من التفاصيل حول المواعيد والإجراءات."),
)
ABOUT = (
    "تأسس الموقع ليكون منبرا إخباريا مستقلا يقدم لقرائه الأخبار المحلية والعربية والدولية بدقة وموضوعية، ويحرص على التحقق من المعلومات قبل نشرها ونسبتها إلى مصادرها.",
    "يعمل في الموقع فريق من المحررين والمراسلين في عدد من العواصم العربية، يغطون السياسة والاقتصاد والرياضة والثقافة والصحة والتكنولوجيا على مدار الساعة.",
    "نلتزم في عملنا بمواثيق الشرف الصحفي، ونفصل بين الخبر والرأي، ونصحح الأخطاء فور اكتشافها، ونرحب بملاحظات القراء ومقترحاتهم عبر صفحة الاتصال.",
    "لا يتلقى الموقع تمويلا من أي جهة سياسية، ويعتمد في دخله على الإعلانات التجارية والاشتراكات، وتخضع الإعلانات لسياسة تحريرية تفصلها بوضوح عن المحتوى الإخباري.",
    "يمكن إعادة نشر المواد بشرط ذكر المصدر ووضع رابط مباشر إلى المادة الأصلية، ويحظر استخدام الصور والتسجيلات المرئية دون إذن مكتوب من إدارة الموقع.",
)
ENGLISH = (
    "Regional energy ministers met on Wednesday to review progress on cross-border power links, officials said.",
    "The meeting focused on financing the first phase of the project and on technical standards for the new transmission lines.",
    "Delegates agreed to meet again next month to finalise the tender documents, according to a statement released after the talks.",
)


@dataclass
class SiteSpec:
    """How one sample site is built.

    Args:
        name: folder and source name ([a-z0-9_]+).
        brand: Arabic name of the outlet.
        theme: ``aggregator`` | ``wordpress`` | ``modern`` | ``legacy``.
        url_style: ``news`` (/news/N.html), ``article`` (/article/N), ``wp`` (/YYYY/MM/DD/post-N/),
            ``php`` (/news.php?id=N).
        pagination: ``query`` (/section/x?page=2) or ``path`` (/category/x/page/2/);
            ``php`` sites use /section.php?cat=x&page=2.
        feeds: any of ``rss`` (/rss.xml), ``wpfeed`` (/feed/), ``atom`` (/atom.xml).
        sitemaps: ``index`` (sitemap index -> gzip urlset + news sitemap), ``plain`` or None.
        robots_sitemaps: list the sitemaps as ``Sitemap:`` lines in robots.txt.
        trap: prefix of an infinite calendar (linked from the home page), or None.
        amp: write /amp/<path> variants with rel=canonical to the article.
        tracking_links: link articles also with ?utm_... and #fragment variants from the home page.
        feed_link_suffix: appended to RSS item links (e.g. ``?utm_source=rss``).
        encoding: bytes encoding of the pages.
        charset_cases: {article index: case} for legacy encodings (see :data:`CHARSET_CASES`).
        time_offset: hours added to every publication time of this site.
    """

    name: str
    brand: str
    theme: str
    url_style: str = "news"
    pagination: str = "query"
    feeds: tuple[str, ...] = ()
    sitemaps: str | None = None
    robots_sitemaps: bool = True
    trap: str | None = None
    amp: bool = False
    tracking_links: bool = False
    feed_link_suffix: str = ""
    encoding: str = "utf-8"
    charset_cases: dict[int, str] = field(default_factory=dict)
    time_offset: int = 0
    per_page: int = 10


#: legacy charset cases: (bytes encoding, <meta charset> or None, Content-Type header)
CHARSET_CASES: dict[str, tuple[str, str | None, str]] = {
    "header": ("windows-1256", None, "text/html; charset=windows-1256"),
    "meta": ("windows-1256", "windows-1256", "text/html"),
    "none": ("windows-1256", None, "text/html"),
    "iso-8859-6": ("iso-8859-6", "iso-8859-6", "text/html; charset=iso-8859-6"),
    "wrong-header": ("windows-1256", None, "text/html; charset=iso-8859-1"),
    "both": ("windows-1256", "windows-1256", "text/html; charset=windows-1256"),
}


@dataclass
class _Article:
    story: Story
    title: str
    paragraphs: list[str]
    published: dt.datetime
    path: str = ""
    author: str = ""
    attribution: str | None = None
    syndicated_from: str | None = None
    wire: str | None = None
    copy: int = 0
    private: bool = False


def _article_path(spec: SiteSpec, n: int, when: dt.datetime, private: bool = False) -> str:
    if private:
        return f"/private/{n}.html"
    if spec.url_style == "article":
        return f"/article/{n}"
    if spec.url_style == "wp":
        return f"/{when.year:04d}/{when.month:02d}/{when.day:02d}/post-{n}/"
    if spec.url_style == "php":
        return f"/news.php?id={n}"
    return f"/news/{n}.html"


def _file_for(path: str) -> str:
    """Relative file that the server maps ``path`` to (see crawler.demo.server)."""
    path = unquote(path)
    if "?" in path:
        base, query = path.split("?", 1)
        name = "_".join(pair.replace("=", "-", 1) for pair in query.split("&")) + ".html"
        return base.strip("/") + "/" + name
    if path.endswith("/"):
        return path.strip("/") + ("/" if path.strip("/") else "") + "index.html"
    return path.lstrip("/") if "." in path.rsplit("/", 1)[-1] else path.lstrip("/") + ".html"


class _SiteWriter:
    def __init__(self, spec: SiteSpec, root: Path) -> None:
        self.spec = spec
        self.root = root
        self.headers: dict[str, dict[str, str]] = {}
        self.non_articles: list[dict[str, str]] = []

    def write(self, path: str, text: str, kind: str | None = None, encoding: str | None = None,
              meta_charset: str | None = None, content_type: str | None = None) -> None:
        rel = _file_for(path)
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        enc = encoding or self.spec.encoding
        target.write_bytes(text.encode(enc, errors="xmlcharrefreplace"))
        entry = {"Last-Modified": LAST_MODIFIED}
        if content_type:
            entry["Content-Type"] = content_type
        elif enc != "utf-8" and rel.endswith(".html"):
            entry["Content-Type"] = f"text/html; charset={enc}"
        self.headers["/" + rel] = entry
        if kind:
            self.non_articles.append({"path": path, "kind": kind})

    def write_gz(self, path: str, text: str) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        self.headers[path] = {"Last-Modified": LAST_MODIFIED}


def _section_paths(spec: SiteSpec, slug: str, page: int) -> str:
    if spec.url_style == "php":
        return f"/section.php?cat={slug}" + (f"&page={page}" if page > 1 else "")
    if spec.pagination == "path":
        return f"/category/{slug}/" + (f"page/{page}/" if page > 1 else "")
    return f"/section/{slug}" + (f"?page={page}" if page > 1 else "")


def _tag_path(tag: str) -> str:
    return "/tag/" + quote(tag.replace(" ", "-")) + "/"


def _teaser(text: str, words: int = 18) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")


def _plan_site(spec: SiteSpec, stories: list[Story], wires: list[tuple[str, int, str]],
               privates: list[Story]) -> list[_Article]:
    """Articles of one site, newest first. ``wires``: (wire_id, copy index, original key or '')."""
    arts: list[_Article] = []
    for i, story in enumerate(stories):
        when = BASE_TIME - dt.timedelta(hours=5 * i + 1) + dt.timedelta(hours=spec.time_offset, minutes=7 * i)
        arts.append(_Article(story, story.title, story.paragraphs(when), when))
    for wire_id, copy, _origin in wires:
        when = BASE_TIME - dt.timedelta(hours=30) + dt.timedelta(hours=2 * copy + 1, minutes=13 * copy)
        title, paras = syndicated_copy(wire_id, copy, spec.brand)
        arts.append(_Article(wire_story(wire_id), title, paras, when, wire=wire_id, copy=copy))
    arts.sort(key=lambda a: a.published, reverse=True)
    for i, story in enumerate(privates):
        when = BASE_TIME - dt.timedelta(hours=2 + i)
        arts.append(_Article(story, story.title, story.paragraphs(when), when, private=True))
    n0 = {"news": 2025101500, "article": 48100, "wp": 700, "php": 310}[spec.url_style]
    for i, art in enumerate(arts):
        art.path = _article_path(spec, n0 + i * 7 + 3, art.published, art.private)
        art.author = AUTHORS[(i + len(spec.name)) % len(AUTHORS)]
        if spec.theme == "aggregator":
            art.attribution = "وكالات" if art.wire else ATTRIBUTIONS[i % len(ATTRIBUTIONS)]
        elif art.wire:
            art.attribution = "وكالات"
    return arts


def _build_site(spec: SiteSpec, arts: list[_Article], root: Path) -> dict[str, Any]:
    w = _SiteWriter(spec, root)
    public = [a for a in arts if not a.private]
    by_topic: dict[str, list[_Article]] = {}
    for a in public:
        by_topic.setdefault(a.story.topic, []).append(a)
    sections = [(_section_paths(spec, TOPICS[t].slug, 1), TOPICS[t].section) for t in TOPICS if t in by_topic]
    latest_slug = "latest"
    sections.insert(0, (_section_paths(spec, latest_slug, 1), "آخر الأخبار"))
    private_links = [(a.path, a.title) for a in arts if a.private]
    extra = [("/en/", "English"), ("/video/1/", "فيديو: جولة في معرض الكتاب")] + private_links
    if spec.trap:
        extra.append((spec.trap.rstrip("/") + "/2025/10/15/", "أرشيف الأخبار"))
    site = SiteInfo(spec.name, spec.brand, spec.theme, sections[:7],
                    most_read=[(a.path, a.title) for a in public[3:6]], extra_links=extra,
                    charset=spec.encoding)
    tag_index: dict[str, list[_Article]] = {}
    records: list[dict[str, Any]] = []

    for i, art in enumerate(arts):
        others = [a for a in public if a is not art]
        read_also = others[(i + 1) % len(others)]
        related = [others[(i + k) % len(others)] for k in (2, 3, 4, 5, 1)]  # the last repeats read_also
        tags = list(art.story.tags)
        for t in tags:
            if not art.private:
                tag_index.setdefault(t, []).append(art)
        topic = TOPICS.get(art.story.topic)
        section = (_section_paths(spec, topic.slug if topic else "latest", 1), art.story.section)
        enc_case = spec.charset_cases.get(i)
        view = ArticleView(
            path=art.path, title=art.title, paragraphs=art.paragraphs, published=art.published,
            section=section, authors=[art.author] if spec.theme != "legacy" else [],
            tags=[(_tag_path(t), t) for t in tags], attribution=art.attribution,
            related=[(a.path, a.title) for a in related],
            amp_path=("/amp" + art.path) if spec.amp else None,
            modified=art.published + dt.timedelta(minutes=35) if spec.theme == "modern" else None,
        )
        boiler: list[str] = []
        if spec.theme == "aggregator":
            view.audio = True
            view.read_also = (read_also.path, read_also.title, read_also.paragraphs)
            boiler += ["Your browser does not support audio tag.", read_also.paragraphs[0][:60], "مقالات مشابهة"]
        elif spec.theme in ("wordpress", "modern"):
            view.inline_link = (read_also.path, read_also.title)
            boiler += [read_also.title]
        if spec.theme == "wordpress":
            view.comments = [COMMENTS[(i + k) % len(COMMENTS)] for k in range(2 + i % 2)]
            boiler += [c[1] for c in view.comments] + ["اشترك في نشرتنا البريدية"]
        if art.attribution:
            boiler.append("المصدر:")
        boiler += ["الأكثر قراءة", "جميع الحقوق محفوظة"]
        encoding = spec.encoding
        meta_charset: str | None = site.charset
        content_type = None
        if enc_case:
            encoding, meta_charset, content_type = CHARSET_CASES[enc_case]
        page_site = SiteInfo(**{**site.__dict__, "charset": meta_charset})
        w.write(art.path, render_article(page_site, view), encoding=encoding, content_type=content_type)
        if spec.amp and not art.private:
            w.write("/amp" + art.path, render_amp(site, view))
        if art.private:
            continue
        variants = []
        if spec.amp:
            variants.append("/amp" + art.path)
        if spec.tracking_links and i < 3:
            sep = "&" if "?" in art.path else "?"
            variants += [f"{art.path}{sep}utm_source=facebook&utm_medium=social", f"{art.path}#comments"]
        origin = None
        if art.wire and art.copy:
            origin = f"{art.wire}:0"
        records.append({
            "path": art.path, "title": art.title, "paragraphs": art.paragraphs,
            "first_paragraph": art.paragraphs[0], "last_paragraph": art.paragraphs[-1],
            "published_at": art.published.isoformat(), "authors": view.authors,
            "tags": tags, "attribution": art.attribution, "section": art.story.section,
            "story": art.story.id, "template": spec.theme, "wire": art.wire, "copy": art.copy,
            "syndicated_from": origin, "variants": variants, "boilerplate": boiler,
            "related_headlines": [a.title for a in related],
            "read_also": {"path": read_also.path, "title": read_also.title},
            "encoding": encoding, "charset_case": enc_case,
        })

    def entry(a: _Article) -> tuple[str, str, str, str]:
        return (a.path, a.title, _teaser(a.paragraphs[0]), arabic_date(a.published, "long"))

    # home
    home_items = [entry(a) for a in public[: spec.per_page]]
    if spec.tracking_links:
        home_items += [(v, r["title"], _teaser(r["first_paragraph"], 10), "") for r in records[:3]
                       for v in r["variants"] if "/amp/" not in v]
        home_items += [(r["variants"][0], r["title"] + " (نسخة الجوال)", "", "") for r in records[:2]
                       if r["variants"] and "/amp/" in r["variants"][0]]
    w.write("/", render_listing(site, spec.brand, home_items, kind="home"), kind="home")
    # sections with pagination
    listings = [(latest_slug, "آخر الأخبار", public)] + [
        (TOPICS[t].slug, TOPICS[t].section, by_topic[t]) for t in TOPICS if t in by_topic]
    for slug, name, items in listings:
        pages = max(1, -(-len(items) // spec.per_page))
        pager = [(_section_paths(spec, slug, p), str(p)) for p in range(1, pages + 1)] if pages > 1 else []
        for p in range(1, pages + 1):
            chunk = items[(p - 1) * spec.per_page: p * spec.per_page]
            title = name + (f" - صفحة {p}" if p > 1 else "")
            w.write(_section_paths(spec, slug, p),
                    render_listing(site, title, [entry(a) for a in chunk], pager,
                                   intro=f"تابع آخر أخبار {name} لحظة بلحظة." if p == 1 else ""),
                    kind="section")
    for tag, items in sorted(tag_index.items()):
        w.write(_tag_path(tag), render_listing(site, f"الوسم: {tag}", [entry(a) for a in items], kind="tag"),
                kind="tag")
    author = public[0].author
    w.write(f"/author/{author_slug(author)}/", render_listing(
        site, f"مقالات الكاتب: {author}", [entry(a) for a in public if a.author == author] or [entry(public[0])],
        intro=f"{author} محرر في {spec.brand}، يكتب في الشؤون المحلية والاقتصادية منذ سنوات.", kind="author"),
        kind="author")
    about = "\n".join(f"<p>{p}</p>" for p in ABOUT)
    w.write("/about/", render_page(site, "من نحن", about, "about"), kind="about")
    w.write("/contact/", render_page(site, "اتصل بنا", "<p>للتواصل مع فريق التحرير: البريد الإلكتروني والهاتف متاحان طوال أيام الأسبوع.</p>", "contact"), kind="contact")
    w.write("/privacy/", render_page(site, "سياسة الخصوصية", "<p>نحترم خصوصية زوارنا ولا نشارك بياناتهم مع أي طرف ثالث.</p>", "privacy"), kind="privacy")
    w.write("/video/1/", render_page(site, "فيديو: جولة في معرض الكتاب",
                                     '<div class="video-player"><video controls src="/media/1.mp4">'
                                     "Your browser does not support the video tag.</video></div>\n"
                                     "<p>شاهد الفيديو.</p>", "video"), kind="video")
    w.write("/en/", render_page(site, "Energy ministers review regional grid plan",
                                "\n".join(f"<p>{p}</p>" for p in ENGLISH), "english", lang="en"), kind="english")

    # feeds and sitemaps
    fentries = [(a.path, a.title, _teaser(a.paragraphs[0], 25), a.published, a.author, a.story.section)
                for a in public]
    feed_paths: list[str] = []
    for kind in spec.feeds:
        if kind == "rss":
            w.write("/rss.xml", feeds.rss_feed(spec.brand, "/", fentries, spec.feed_link_suffix), encoding="utf-8",
                    content_type="application/rss+xml; charset=utf-8")
            feed_paths.append("/rss.xml")
        elif kind == "wpfeed":
            w.write("/feed/", feeds.rss_feed(spec.brand, "/", fentries, spec.feed_link_suffix), encoding="utf-8",
                    content_type="application/rss+xml; charset=UTF-8")
            feed_paths.append("/feed/")
        elif kind == "atom":
            w.write("/atom.xml", feeds.atom_feed(spec.brand, "/atom.xml", fentries), encoding="utf-8",
                    content_type="application/atom+xml; charset=utf-8")
            feed_paths.append("/atom.xml")
    sitemap_paths: list[str] = []
    newest = public[0].published
    if spec.sitemaps == "index":
        w.write_gz("/sitemaps/articles.xml.gz", feeds.urlset([(a.path, a.published) for a in public]))
        w.write("/sitemaps/news.xml", feeds.news_sitemap(spec.brand, [(a.path, a.title, a.published)
                                                                      for a in public[:8]]), encoding="utf-8")
        w.write("/sitemaps/pages.xml", feeds.urlset([(p["path"], None) for p in w.non_articles
                                                     if p["kind"] in ("home", "section")]), encoding="utf-8")
        w.write("/sitemap.xml", feeds.sitemap_index([("/sitemaps/articles.xml.gz", newest),
                                                     ("/sitemaps/news.xml", newest),
                                                     ("/sitemaps/pages.xml", newest)]), encoding="utf-8")
        sitemap_paths = ["/sitemap.xml"]
    elif spec.sitemaps == "plain":
        w.write("/sitemap.xml", feeds.urlset([(a.path, a.published) for a in public]), encoding="utf-8")
        sitemap_paths = ["/sitemap.xml"]
    disallowed = ["/private/"]
    w.write("/robots.txt", feeds.robots_txt(disallowed, sitemap_paths if spec.robots_sitemaps else []),
            encoding="utf-8")
    (root / "_headers.json").write_text(json.dumps(w.headers, ensure_ascii=False, indent=1, sort_keys=True),
                                        encoding="utf-8")
    if spec.trap:
        (root / "_trap.json").write_text(json.dumps({"prefix": spec.trap}), encoding="utf-8")
    return {
        "site": spec.name, "brand": spec.brand, "template": spec.theme,
        "articles": records, "article_paths": [r["path"] for r in records],
        "expected_articles": len(records), "non_articles": w.non_articles,
        "syndicated": {}, "feeds": feed_paths, "sitemaps": sitemap_paths,
        "robots_sitemaps": spec.robots_sitemaps and bool(sitemap_paths),
        "start_urls": ["/"], "disallowed": disallowed,
        "disallowed_articles": [a.path for a in arts if a.private],
        "trap_prefix": spec.trap,
    }


def private_story(index: int) -> Story:
    """An unpublished draft (the robots-disallowed page): its own title, bank paragraphs."""
    topic = list(TOPICS.values())[index % len(TOPICS)]
    body = tuple(p.format(city="المدينة", actor="مسؤول رفيع", n1=4, n2=250, pct=12, year=2028)
                 for p in (topic.bank[(index + k) % len(topic.bank)] for k in (1, 4, 7)))
    lead = ("تنشر هذه الصفحة للمشتركين فقط، وهي مسودة خبر قيد التحرير لم تعتمد بعد من رئاسة التحرير، "
            f"وتتناول ملفا في قسم {topic.section} {{day}} بانتظار استكمال المراجعة.")
    return Story(f"private-{index}", topic.key, "المدينة", f"مسودة خاصة للمشتركين رقم {index + 1}: ملف {topic.section}",
                 lead, body, (topic.tags[0],))


def build_web(dest: Path, specs: list[SiteSpec], stories: dict[str, list[Story]],
              wires: dict[str, list[str]]) -> dict[str, Any]:
    """Write every site of ``specs`` under ``dest`` and return the web manifest.

    Args:
        dest: the web folder (created).
        specs: one spec per site.
        stories: site name -> the distinct stories it publishes.
        wires: wire story id -> the sites that carry a copy, the first one being the original.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    site_wires: dict[str, list[tuple[str, int, str]]] = {s.name: [] for s in specs}
    for wire_id, names in wires.items():
        for copy, name in enumerate(names):
            site_wires[name].append((wire_id, copy, names[0]))
    manifests: dict[str, dict[str, Any]] = {}
    for k, spec in enumerate(specs):
        arts = _plan_site(spec, stories[spec.name], site_wires[spec.name], [private_story(k)])
        manifests[spec.name] = _build_site(spec, arts, dest / spec.name)
    # resolve syndication: "wire:copy" -> "site:/path"
    originals = {}
    for name, man in manifests.items():
        for rec in man["articles"]:
            if rec["wire"] and rec["copy"] == 0:
                originals[rec["wire"]] = f"{name}:{rec['path']}"
    copies: dict[str, list[tuple[int, str]]] = {}
    for name, man in manifests.items():
        for rec in man["articles"]:
            if rec["wire"]:
                copies.setdefault(rec["wire"], []).append((rec["copy"], f"{name}:{rec['path']}"))
                if rec["copy"]:
                    rec["syndicated_from"] = originals[rec["wire"]]
                    man["syndicated"][rec["path"]] = originals[rec["wire"]]
        (dest / name / "_manifest.json").write_text(json.dumps(man, ensure_ascii=False, indent=1), encoding="utf-8")
    # each group lists the original first, then the copies in order
    groups = {wire: [key for _, key in sorted(items)] for wire, items in copies.items()}
    articles = [{"site": name, "path": r["path"], "title": r["title"], "snippet": r["first_paragraph"][:80],
                 "first_paragraph": r["first_paragraph"], "published_at": r["published_at"],
                 "story": r["story"], "group": r["wire"], "template": r["template"],
                 "encoding": r["encoding"], "charset_case": r["charset_case"], "disallowed": False,
                 "syndicated_from": r["syndicated_from"]}
                for name, man in manifests.items() for r in man["articles"]]
    web = {
        "sites": [s.name for s in specs],
        "templates": {s.name: s.theme for s in specs},
        "articles": articles,
        "expected_articles": len(articles),
        "distinct_stories": len({a["story"] for a in articles}),
        "duplicate_groups": [v for _, v in sorted(groups.items())],
        "duplicate_groups_by_story": dict(sorted(groups.items())),
        "disallowed": {n: m["disallowed"] for n, m in manifests.items()},
        "disallowed_articles": {n: m["disallowed_articles"] for n, m in manifests.items()},
        "traps": {n: m["trap_prefix"] for n, m in manifests.items() if m["trap_prefix"]},
        # the same, as lists of URL prefixes per site
        "disallowed_prefixes": {n: m["disallowed"] for n, m in manifests.items()},
        "trap_prefixes": {n: [m["trap_prefix"]] for n, m in manifests.items() if m["trap_prefix"]},
    }
    (dest / "_manifest.json").write_text(json.dumps(web, ensure_ascii=False, indent=1), encoding="utf-8")
    logger.debug("built web %s: %d sites, %d articles", dest, len(specs), len(articles))
    return web
