"""HTML templates of the sample news sites: four page families ("themes").

* ``aggregator`` -- the markup of the seed page: ``news-details``, audio-tag
  notice, "المصدر:" line, "كلمات دلالية:" tags, an embedded "إقرأ أيضاً:" article
  with its text, a "مقالات مشابهة" list.
* ``wordpress`` -- a WordPress single post: ``entry-content``, "بقلم" byline,
  share bar, newsletter box, tags, comments and comment form.
* ``modern`` -- a JSON-LD ``NewsArticle`` page with an inline "اقرأ أيضا" box,
  ad labels, follow prompt and a "ذات صلة" list.
* ``legacy`` -- an old table layout, no semantic tags, single-byte encodings.

Templates return ``str``; the site builder encodes them. ``__BASE_URL__`` is
left in absolute URLs for the server to fill in.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from html import escape

from crawler.demo.texts import arabic_date

__all__ = ["ArticleView", "SiteInfo", "render_amp", "render_article", "render_listing", "render_page"]

BASE = "__BASE_URL__"


@dataclass
class SiteInfo:
    """What every page of a site shares."""

    name: str
    brand: str
    theme: str
    sections: list[tuple[str, str]]                       # (href, Arabic name)
    most_read: list[tuple[str, str]] = field(default_factory=list)   # (href, title)
    extra_links: list[tuple[str, str]] = field(default_factory=list)  # (href, text) in the footer/sidebar
    charset: str | None = "utf-8"                           # <meta charset>, None for none
    year: int = 2025


@dataclass
class ArticleView:
    """Everything an article page shows."""

    path: str
    title: str
    paragraphs: list[str]
    published: dt.datetime
    section: tuple[str, str]                                # (href, name)
    authors: list[str] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (href, tag)
    attribution: str | None = None
    read_also: tuple[str, str, list[str]] | None = None      # (href, title, paragraphs)
    inline_link: tuple[str, str] | None = None                # (href, title) "اقرأ أيضا" box
    related: list[tuple[str, str]] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)  # (name, text)
    audio: bool = False
    amp_path: str | None = None
    canonical: str | None = None                              # path; default self
    modified: dt.datetime | None = None
    description: str | None = None

    @property
    def canonical_url(self) -> str:
        """Absolute canonical URL (with the placeholder)."""
        return BASE + (self.canonical or self.path)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _links(items: list[tuple[str, str]], cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<ul{c}>" + "".join(f'<li><a href="{_e(h)}">{_e(t)}</a></li>' for h, t in items) + "</ul>"


def _head(site: SiteInfo, title: str, extra: str = "", lang: str = "ar") -> str:
    meta = f'<meta charset="{site.charset}">\n' if site.charset else ""
    direction = "rtl" if lang == "ar" else "ltr"
    return (f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n<head>\n{meta}'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)} | {_e(site.brand)}</title>\n{extra}</head>\n")


def _article_meta(site: SiteInfo, art: ArticleView) -> str:
    desc = art.description or art.paragraphs[0][:150]
    out = [
        f'<meta name="description" content="{_e(desc)}">',
        f'<meta property="og:title" content="{_e(art.title)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{_e(art.canonical_url)}">',
        f'<meta property="og:site_name" content="{_e(site.brand)}">',
        f'<meta property="article:published_time" content="{art.published.isoformat()}">',
        f'<link rel="canonical" href="{_e(art.canonical_url)}">',
    ]
    if art.modified:
        out.append(f'<meta property="article:modified_time" content="{art.modified.isoformat()}">')
    if art.tags:
        out.append(f'<meta name="keywords" content="{_e(", ".join(t for _, t in art.tags))}">')
    if art.amp_path:
        out.append(f'<link rel="amphtml" href="{BASE}{_e(art.amp_path)}">')
    return "\n".join(out) + "\n"


def _paras(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{_e(p)}</p>" for p in paragraphs)


# -- shared chrome per theme ------------------------------------------------------------------
def _header(site: SiteInfo) -> str:
    nav = [("/", "الرئيسية"), *site.sections]
    if site.theme == "wordpress":
        return (f'<div id="page" class="site">\n<header id="masthead" class="site-header">'
                f'<p class="site-title"><a href="/" rel="home">{_e(site.brand)}</a></p>'
                f'<p class="site-description">أخبار محلية وعربية على مدار الساعة</p>'
                f'<nav id="site-navigation" class="main-navigation">{_links(nav, "menu")}</nav></header>\n'
                f'<div id="content" class="site-content">\n')
    if site.theme == "modern":
        return (f'<header class="topbar"><a class="brand" href="/">{_e(site.brand)}</a>'
                f'<nav aria-label="الأقسام">{_links(nav, "nav-list")}</nav>'
                f'<a class="live" href="/">بث مباشر</a></header>\n')
    return (f'<header class="site-header"><a class="logo" href="/">{_e(site.brand)}</a>\n'
            f'<nav>{_links(nav, "menu")}</nav>\n'
            f'<form class="search"><input type="text" placeholder="ابحث هنا..."></form></header>\n')


def _sidebar(site: SiteInfo) -> str:
    extra = _links(site.extra_links, "more-links") if site.extra_links else ""
    if site.theme == "wordpress":
        return (f'<aside id="secondary" class="widget-area"><section class="widget widget_popular">'
                f'<h2 class="widget-title">الأكثر قراءة</h2>{_links(site.most_read)}</section>'
                f'<section class="widget">{extra}</section></aside>\n')
    return (f'<aside class="sidebar"><h3>الأكثر قراءة</h3>{_links(site.most_read)}\n'
            f'<div class="newsletter">اشترك في النشرة البريدية ليصلك كل جديد</div>{extra}</aside>\n')


def _footer(site: SiteInfo) -> str:
    links = [("/about/", "من نحن"), ("/contact/", "اتصل بنا"), ("/privacy/", "سياسة الخصوصية")]
    inner = (f"جميع الحقوق محفوظة © {site.year} {_e(site.brand)} — "
             + " — ".join(f'<a href="{h}">{t}</a>' for h, t in links))
    if site.theme == "wordpress":
        return (f'</div>\n<footer id="colophon" class="site-footer"><div class="site-info">{inner}</div>'
                f'</footer>\n</div>\n</body>\n</html>\n')
    return f'<footer class="site-footer">{inner}</footer>\n</body>\n</html>\n'


# -- article pages ----------------------------------------------------------------------------
def _aggregator_article(site: SiteInfo, art: ArticleView) -> str:
    body = _paras(art.paragraphs)
    if art.audio:
        body += (f'\n<audio controls preload="none"><source src="/audio{_e(art.path)}.mp3" type="audio/mpeg">'
                 "Your browser does not support audio tag.</audio>")
    if art.attribution:
        body += f'\n<p class="source">المصدر: {_e(art.attribution)}</p>'
    tags = ""
    if art.tags:
        tags = ('<div class="tags"><span>كلمات دلالية:</span> '
                + " ".join(f'<a href="{_e(h)}" rel="tag">{_e(t)}</a>' for h, t in art.tags) + "</div>\n")
    read_also = ""
    if art.read_also:
        href, title, paras = art.read_also
        read_also = (f'<section class="read-also">\n<h3>إقرأ أيضاً:</h3>\n<h2><a href="{_e(href)}">{_e(title)}</a></h2>\n'
                     f"{_paras(paras)}\n</section>\n")
    related = ""
    if art.related:
        related = f'<section class="related">\n<h3>مقالات مشابهة</h3>\n{_links(art.related)}\n</section>\n'
    return (_head(site, art.title, _article_meta(site, art)) + "<body>\n" + _header(site)
            + f'<div class="breadcrumb"><a href="/">الرئيسية</a> » <a href="{_e(art.section[0])}">{_e(art.section[1])}</a></div>\n'
            + '<main class="container">\n<article class="news-details">\n'
            + f'<h1 class="news-title">{_e(art.title)}</h1>\n'
            + f'<div class="news-meta"><span class="date">{_e(arabic_date(art.published, "slash"))}</span>'
            + (f' <span class="author">كتب: {_e(art.authors[0])}</span>' if art.authors else "") + "</div>\n"
            + '<div class="share"><a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">واتساب</a> <a href="#">نسخ الرابط</a></div>\n'
            + f'<div class="news-body">\n{body}\n</div>\n{tags}{read_also}{related}</article>\n'
            + _sidebar(site) + "</main>\n" + _footer(site))


def _wordpress_article(site: SiteInfo, art: ArticleView) -> str:
    paras = list(art.paragraphs)
    if art.inline_link:
        href, title = art.inline_link
        paras_html = _paras(paras[:2]) + (f'\n<p class="read-more"><strong>اقرأ أيضاً: </strong>'
                                          f'<a href="{_e(href)}">{_e(title)}</a></p>\n') + _paras(paras[2:])
    else:
        paras_html = _paras(paras)
    author = art.authors[0] if art.authors else "فريق التحرير"
    comments = ""
    if art.comments:
        items = "".join(
            f'<li class="comment"><article class="comment-body"><footer class="comment-meta">'
            f'<b class="fn">{_e(n)}</b> <span class="says">يقول:</span></footer>'
            f'<div class="comment-content"><p>{_e(t)}</p></div></article></li>' for n, t in art.comments)
        comments = (f'<div id="comments" class="comments-area"><h2 class="comments-title">'
                    f'{len(art.comments)} تعليقات على “{_e(art.title)}”</h2><ol class="comment-list">{items}</ol>'
                    '<div id="respond" class="comment-respond"><h3>أضف تعليقاً</h3><form id="commentform">'
                    '<textarea name="comment"></textarea><input type="submit" value="إرسال التعليق"></form></div></div>\n')
    tags = ""
    if art.tags:
        tags = ('<span class="tags-links">الوسوم: '
                + "، ".join(f'<a href="{_e(h)}" rel="tag">{_e(t)}</a>' for h, t in art.tags) + "</span>")
    related = ""
    if art.related:
        related = f'<div class="related-posts"><h3>ذات صلة</h3>{_links(art.related)}</div>\n'
    return (_head(site, art.title, _article_meta(site, art))
            + '<body class="post-template-default single single-post">\n' + _header(site)
            + '<main id="main" class="site-main">\n'
            + f'<article class="post type-post status-publish format-standard hentry category-{_e(art.section[0].strip("/").split("/")[-1])}">\n'
            + f'<header class="entry-header"><h1 class="entry-title">{_e(art.title)}</h1>\n'
            + f'<div class="entry-meta"><span class="byline">بقلم <span class="author vcard"><a class="url fn n" rel="author" href="/author/{_e(author_slug(author))}/">{_e(author)}</a></span></span> '
            + f'<span class="posted-on"><time class="entry-date published" datetime="{art.published.isoformat()}">{_e(arabic_date(art.published, "long"))}</time></span> '
            + f'<span class="cat-links">في <a href="{_e(art.section[0])}" rel="category tag">{_e(art.section[1])}</a></span></div></header>\n'
            + f'<div class="entry-content">\n{paras_html}\n</div>\n'
            + f'<footer class="entry-footer">{tags}</footer>\n'
            + '<div class="sharedaddy"><h3 class="sd-title">شارك المقال:</h3><a class="share-facebook" href="#">فيسبوك</a> '
              '<a class="share-twitter" href="#">إكس</a> <a class="share-whatsapp" href="#">واتساب</a> <a class="share-telegram" href="#">تلغرام</a></div>\n'
            + '<div class="newsletter-box"><h4>النشرة البريدية</h4><p>اشترك في نشرتنا البريدية لتصلك أهم الأخبار صباح كل يوم.</p>'
              '<form><input type="email" placeholder="بريدك الإلكتروني"><button>اشترك</button></form></div>\n'
            + related + "</article>\n" + comments + "</main>\n" + _sidebar(site) + _footer(site))


def _modern_article(site: SiteInfo, art: ArticleView) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": art.title,
        "datePublished": art.published.isoformat(),
        "dateModified": (art.modified or art.published).isoformat(),
        "author": [{"@type": "Person", "name": a} for a in art.authors],
        "publisher": {"@type": "Organization", "name": site.brand,
                      "logo": {"@type": "ImageObject", "url": f"{BASE}/static/logo.png"}},
        "mainEntityOfPage": {"@type": "WebPage", "@id": art.canonical_url},
        "articleSection": art.section[1],
        "keywords": [t for _, t in art.tags],
        "inLanguage": "ar",
        "image": [f"{BASE}/static/img{art.path}.jpg"],
    }
    extra = _article_meta(site, art) + (
        '<script type="application/ld+json">' + json.dumps(ld, ensure_ascii=False) + "</script>\n")
    paras = list(art.paragraphs)
    parts = [_paras(paras[:3])]
    if art.inline_link:
        href, title = art.inline_link
        parts.append(f'<aside class="inline-related"><span class="label">اقرأ أيضا</span>'
                     f'<a href="{_e(href)}">{_e(title)}</a></aside>')
    parts.append('<div class="ad-slot"><span class="ad-label">إعلان</span></div>')
    parts.append(_paras(paras[3:]))
    if art.attribution:
        parts.append(f'<p class="article-source">المصدر: {_e(art.attribution)}</p>')
    authors = "، ".join(art.authors) if art.authors else "المحرر"
    related = ""
    if art.related:
        related = f'<section class="more-stories"><h2>ذات صلة</h2>{_links(art.related)}</section>\n'
    tags = ""
    if art.tags:
        tags = '<ul class="topics">' + "".join(f'<li><a href="{_e(h)}">#{_e(t)}</a></li>' for h, t in art.tags) + "</ul>\n"
    return (_head(site, art.title, extra) + "<body>\n" + _header(site)
            + f'<nav class="crumbs" aria-label="مسار التصفح"><ol><li><a href="/">الرئيسية</a></li>'
              f'<li><a href="{_e(art.section[0])}">{_e(art.section[1])}</a></li></ol></nav>\n'
            + '<main>\n<article class="story">\n'
            + f'<header><span class="kicker">{_e(art.section[1])}</span><h1>{_e(art.title)}</h1>\n'
            + f'<p class="byline">{_e(authors)} · <time datetime="{art.published.isoformat()}">'
              f'{_e(arabic_date(art.published, "levant"))}</time></p></header>\n'
            + f'<figure><img src="/static/img{_e(art.path)}.jpg" alt="{_e(art.title)}"><figcaption>صورة أرشيفية</figcaption></figure>\n'
            + '<div class="story-body">\n' + "\n".join(parts) + "\n</div>\n" + tags
            + '<div class="follow">تابعونا على تلغرام وواتساب لمتابعة آخر الأخبار</div>\n'
            + related + "</article>\n" + _sidebar(site) + "</main>\n" + _footer(site))


def _legacy_article(site: SiteInfo, art: ArticleView) -> str:
    nav = " | ".join(f'<a href="{_e(h)}">{_e(t)}</a>' for h, t in [("/", "الرئيسية"), *site.sections])
    most = "<br>".join(f'<a href="{_e(h)}">{_e(t)}</a>' for h, t in site.most_read)
    body = "\n".join(f'<p><font size="3">{_e(p)}</font></p>' for p in art.paragraphs)
    meta = _article_meta(site, art)
    return (_head(site, art.title, meta)
            + '<body bgcolor="#FFFFFF" topmargin="0">\n<table width="980" border="0" align="center" cellpadding="0" cellspacing="0">\n'
            + f'<tr><td colspan="2" class="top"><font size="6"><b>{_e(site.brand)}</b></font><br>{nav}</td></tr>\n'
            + '<tr><td width="200" valign="top" class="right"><b>الأكثر قراءة</b><br>' + most
            + "<br><br>" + "<br>".join(f'<a href="{_e(h)}">{_e(t)}</a>' for h, t in site.extra_links)
            + "<br><br><b>إعلانات</b></td>\n<td valign=\"top\">\n"
            + f'<font color="#990000" size="5"><b>{_e(art.title)}</b></font><br>\n'
            + f'<font size="2" color="#666666">بتاريخ: {_e(arabic_date(art.published, "eastern"))} - القسم: {_e(art.section[1])}</font>\n'
            + body + "\n"
            + (f'<p><font size="2">المصدر: {_e(art.attribution)}</font></p>\n' if art.attribution else "")
            + '<p><a href="javascript:window.print()">طباعة</a> | <a href="#">أرسل لصديق</a></p>\n'
            + "</td></tr>\n"
            + f'<tr><td colspan="2" align="center"><font size="1">جميع الحقوق محفوظة © {site.year} {_e(site.brand)} — '
              '<a href="/about/">من نحن</a></font></td></tr>\n</table>\n</body>\n</html>\n')


_ARTICLE = {
    "aggregator": _aggregator_article,
    "wordpress": _wordpress_article,
    "modern": _modern_article,
    "legacy": _legacy_article,
}


def author_slug(name: str) -> str:
    """A stable ASCII slug for an author page."""
    return "a" + str(sum((i + 1) * ord(c) for i, c in enumerate(name)) % 100000)


def render_article(site: SiteInfo, art: ArticleView) -> str:
    """An article page in the site's theme."""
    return _ARTICLE[site.theme](site, art)


def render_amp(site: SiteInfo, art: ArticleView) -> str:
    """The AMP variant of an article; its rel=canonical points to the main URL."""
    return (f'<!doctype html>\n<html amp lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{_e(art.title)}</title>\n"
            f'<link rel="canonical" href="{_e(art.canonical_url)}">\n'
            '<meta name="viewport" content="width=device-width">\n'
            f'<meta property="article:published_time" content="{art.published.isoformat()}">\n'
            '<script async src="https://cdn.ampproject.org/v0.js"></script>\n'
            "<style amp-boilerplate>body{visibility:hidden}</style>\n</head>\n<body>\n"
            f'<header class="amp-header"><a href="/">{_e(site.brand)}</a></header>\n'
            f"<article><h1>{_e(art.title)}</h1>\n<p class=\"date\">{_e(arabic_date(art.published, 'long'))}</p>\n"
            f"{_paras(art.paragraphs)}\n</article>\n"
            f'<footer>جميع الحقوق محفوظة © {site.year} {_e(site.brand)}</footer>\n</body>\n</html>\n')


# -- listings and other pages -----------------------------------------------------------------
def render_listing(site: SiteInfo, title: str, items: list[tuple[str, str, str, str]],
                   pages: list[tuple[str, str]] | None = None, intro: str = "", kind: str = "section") -> str:
    """A section / tag / author / home page: ``items`` are (href, title, teaser, date).

    ``pages`` are pagination links (href, label).
    """
    if site.theme == "legacy":
        rows = "\n".join(f'<tr><td><a href="{_e(h)}"><b>{_e(t)}</b></a><br><font size="2">{_e(s)}</font></td></tr>'
                         for h, t, s, _ in items)
        pager = " ".join(f'<a href="{_e(h)}">{_e(l)}</a>' for h, l in (pages or []))
        pager += "<br>" + " | ".join(f'<a href="{_e(h)}">{_e(t)}</a>' for h, t in site.extra_links)
        nav = " | ".join(f'<a href="{_e(h)}">{_e(t)}</a>' for h, t in [("/", "الرئيسية"), *site.sections])
        return (_head(site, title) + f'<body>\n<table width="980" align="center"><tr><td><font size="6"><b>{_e(site.brand)}</b></font><br>{nav}</td></tr>\n'
                f'<tr><td><h2>{_e(title)}</h2>{_e(intro)}</td></tr>\n{rows}\n<tr><td>{pager}</td></tr>\n'
                f'<tr><td align="center"><font size="1">جميع الحقوق محفوظة © {site.year} {_e(site.brand)}</font></td></tr></table>\n</body>\n</html>\n')
    cards = "\n".join(
        f'<article class="card"><h2 class="card-title"><a href="{_e(h)}">{_e(t)}</a></h2>'
        f'<time>{_e(d)}</time><p class="teaser">{_e(s)}</p></article>' for h, t, s, d in items)
    pager = ""
    if pages:
        pager = '<nav class="pagination">' + " ".join(
            f'<a class="page-numbers" href="{_e(h)}">{_e(l)}</a>' for h, l in pages) + "</nav>\n"
    intro_html = f'<p class="archive-description">{_e(intro)}</p>\n' if intro else ""
    return (_head(site, title) + f'<body class="{kind}">\n' + _header(site)
            + f'<main class="listing">\n<h1 class="page-title">{_e(title)}</h1>\n{intro_html}'
            + f'<div class="cards">\n{cards}\n</div>\n{pager}</main>\n' + _sidebar(site) + _footer(site))


def render_page(site: SiteInfo, title: str, body_html: str, kind: str = "page", lang: str = "ar") -> str:
    """A plain page (about, contact, video, English page): no article markup."""
    if site.theme == "legacy":
        return (_head(site, title, lang=lang) + f'<body>\n<table width="980" align="center"><tr><td>'
                f'<font size="6"><b>{_e(site.brand)}</b></font></td></tr>\n<tr><td><h2>{_e(title)}</h2>\n'
                f'{body_html}\n</td></tr></table>\n</body>\n</html>\n')
    return (_head(site, title, lang=lang) + f'<body class="{kind}">\n' + _header(site)
            + f'<main class="page-content">\n<h1>{_e(title)}</h1>\n{body_html}\n</main>\n'
            + _sidebar(site) + _footer(site))
