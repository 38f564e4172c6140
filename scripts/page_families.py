"""Markup families for the extraction regression set (see make_extraction_pages.py)."""

from __future__ import annotations

import json
from html import escape

from extraction_texts import COMMENTS


def _pick(ctx, *options):
    return ctx["rng"].choice(options)


def _cls(ctx, *options):
    return _pick(ctx, *options) + _pick(ctx, "", " clearfix", " col-md-8", " is-rtl")


def head(ctx, extra="", og=True):
    sep = _pick(ctx, " | ", " - ", " :: ", " — ")
    title = ctx["art"]["title"]
    full = f"{ctx['site']}{sep}{title}" if ctx["n"] % 3 == 0 else f"{title}{sep}{ctx['site']}"
    meta = f'<meta property="og:title" content="{escape(title)}"><meta property="og:site_name" content="{ctx["site"]}">' if og else ""
    tags = ""
    return (f"<head><meta charset=\"utf-8\"><title>{escape(full)}</title>{meta}{ctx['date']['head']}{tags}{extra}"
            f"<link rel=\"canonical\" href=\"{ctx['url']}\"></head>")


def date_html(ctx):
    d = ctx["date"]
    if d["time_el"]:
        return f'<time datetime="{d["iso"]}" class="{_pick(ctx, "published", "date", "ts")}">{d["visible"]}</time>'
    if not d["visible"]:
        return ""
    tag = _pick(ctx, "span", "div", "p")
    return f'<{tag} class="{_pick(ctx, "date", "news-date", "meta-time", "t")}">{d["visible"]}</{tag}>'


def byline(ctx, must_not):
    name = ctx["art"]["author"]
    form = _pick(ctx, "بقلم: {}", "كتب - {}", "كتبت: {}", "{}", "By {}")
    must_not.append(form.format(name))
    cls = _pick(ctx, "author", "byline", "writer-name", "post-author")
    link = '<a href="/author/{}">{}</a>'.format(ctx["n"], name)
    return f'<div class="{cls}">{form.format(link)}</div>'


def ld_json(ctx, date=True, keywords=True):
    data = {"@context": "https://schema.org", "@type": _pick(ctx, "NewsArticle", "Article", "ReportageNewsArticle"),
            "headline": ctx["art"]["title"], "author": {"@type": "Person", "name": ctx["art"]["author"]},
            "publisher": {"@type": "Organization", "name": ctx["site"]}}
    if date and ctx["date"]["style"] in ("meta", "jsonld", "time"):
        data["datePublished"] = ctx["date"]["iso"]
    if keywords:
        data["keywords"] = ", ".join(ctx["art"]["tags"])
    return f'<script type="application/ld+json">{json.dumps({"@graph": [data]}, ensure_ascii=False)}</script>'


def source_line(ctx, must_not, tag="p"):
    kind, src = ctx["attr_kind"], ctx["attribution"]
    if kind == "source":
        text = _pick(ctx, f"المصدر: {src}", f"المصدر : {src}", f"المصدر/ {src}")
    elif kind == "naqlan":
        text = f"نقلا عن {src}"
    else:
        return ""
    must_not.append(text)
    return f'<{tag} class="{_pick(ctx, "source", "src", "credit", "note")}">{text}</{tag}>'


def tags_block(ctx, must_not, label=None):
    if not ctx["has_tags"]:
        return ""
    label = label or _pick(ctx, "كلمات دلالية:", "الوسوم:", "كلمات مفتاحية:", "Tags:")
    must_not.append(label.rstrip(":"))
    links = " ".join(f'<a href="/tag/{i}">{t}</a>' for i, t in enumerate(ctx["art"]["tags"]))
    wrap = _pick(ctx, "div", "p", "section")
    return f'<{wrap} class="{_pick(ctx, "tags", "keywords", "k-list", "post-tags")}"><span>{label}</span> {links}</{wrap}>'


def related_block(ctx, must_not, label=None, cls=None, tag="section"):
    label = label or _pick(ctx, "مقالات مشابهة", "أخبار ذات صلة", "ذات صلة", "مواضيع متعلقة", "Related articles")
    must_not += [label] + ctx["related"]
    items = "".join(f'<li><a href="/news/{900 + i}.html">{h}</a></li>' for i, h in enumerate(ctx["related"]))
    cls = cls or _pick(ctx, "related", "similar-news", "box-more", "rel")
    hx = _pick(ctx, "h3", "h4", "div", "span")
    return f'<{tag} class="{cls}"><{hx}>{label}</{hx}><ul>{items}</ul></{tag}>'


def most_read(ctx, must_not, tag="aside"):
    label = "Most read" if ctx["en"] else _pick(ctx, "الأكثر قراءة", "الأكثر مشاهدة")
    must_not += [label] + ctx["most_read"]
    items = "".join(f'<li><a href="/news/{700 + i}.html">{h}</a> <span>1 يناير 2018</span></li>'
                    for i, h in enumerate(ctx["most_read"]))
    return f'<{tag} class="{_pick(ctx, "sidebar", "side-col", "widget-area", "w")}"><h3>{label}</h3><ol>{items}</ol></{tag}>'


def share_bar(ctx, must_not):
    names = ["Facebook", "Twitter", "WhatsApp"] if ctx["en"] else ["فيسبوك", "تويتر", "واتساب", "تيليجرام"]
    must_not.append(names[2])
    links = " ".join(f'<a href="#s{i}">{n}</a>' for i, n in enumerate(names))
    return f'<div class="{_pick(ctx, "share", "social-share", "sharing-tools", "s-bar")}">{links}</div>'


def newsletter(ctx, must_not):
    text = "Subscribe to our newsletter for daily updates" if ctx["en"] else _pick(
        ctx, "اشترك في النشرة البريدية ليصلك كل جديد", "اشترك في نشرتنا البريدية اليومية")
    must_not.append(text)
    return f'<div class="{_pick(ctx, "newsletter", "nl-box", "subscribe")}"><p>{text}</p><form><input type="email"></form></div>'


def ad(ctx, must_not):
    label = "Advertisement" if ctx["en"] else _pick(ctx, "إعلان", "مساحة إعلانية")
    must_not.append(label)
    return f'<div class="{_pick(ctx, "ad-slot", "adv", "dfp-box", "promo-x")}"><span>{label}</span></div>'


def footer(ctx, must_not, tag="footer"):
    text = f"© 2025 {ctx['site']}. All rights reserved." if ctx["en"] else f"جميع الحقوق محفوظة © 2025 {ctx['site']}"
    must_not.append(text.split(" © ")[0] if not ctx["en"] else "All rights reserved")
    return f'<{tag} class="{_pick(ctx, "site-footer", "ftr", "bottom")}">{text} — <a href="/about">من نحن</a></{tag}>'


def nav(ctx):
    items = ["Home", "World", "Business", "Sport"] if ctx["en"] else ["الرئيسية", "سياسة", "اقتصاد", "رياضة", "منوعات"]
    lis = "".join(f'<li><a href="/s/{i}">{t}</a></li>' for i, t in enumerate(items))
    return f'<header class="{_pick(ctx, "site-header", "top", "masthead")}"><a class="logo" href="/">{ctx["site"]}</a><nav><ul>{lis}</ul></nav></header>'


def embedded_read_also(ctx, must_not, wrapped=True):
    other = ctx["other"]
    label = _pick(ctx, "إقرأ أيضاً:", "اقرأ أيضا", "اقرأ ايضاً:", "Read also")
    must_not += [label.rstrip(":"), other["title"], other["paragraphs"][0][:60]]
    inner = f'<h2><a href="/news/{500 + ctx["n"]}.html">{other["title"]}</a></h2>' + "".join(
        f"<p>{p}</p>" for p in other["paragraphs"])
    if wrapped:
        return f'<section class="{_pick(ctx, "read-also", "box-x", "more-news", "embed")}"><h3>{label}</h3>{inner}</section>', [other["title"]]
    return f"<p><strong>{label}</strong></p>{inner}", [other["title"]]


def inline_read_also(ctx, must_not, idx):
    h = ctx["related"][idx]
    label = _pick(ctx, "اقرأ أيضا:", "إقرأ أيضاً:", "طالع أيضا:", "شاهد أيضا:")
    must_not += [h, label.rstrip(":")]
    return f'<p><strong>{label}</strong> <a href="/news/{800 + idx}.html">{h}</a></p>', h


def body_ps(ctx, inserts=None):
    inserts = inserts or {}
    out = []
    for i, p in enumerate(ctx["paragraphs"]):
        out.append(f"<p>{p}</p>")
        if i in inserts:
            out.append(inserts[i])
    return "".join(out)


def comments(ctx, must_not, labelled=True):
    label = _pick(ctx, "التعليقات (3)", "3 تعليقات", "التعليقات") if labelled else ""
    must_not += COMMENTS + ([label] if label else []) + ["أضف تعليقك"]
    items = "".join(f'<div class="c-item"><b>زائر {i}</b><p>{c}</p></div>' for i, c in enumerate(COMMENTS))
    lab = f"<h3>{label}</h3>" if label else ""
    return f'<div class="{_pick(ctx, "comments", "user-notes", "reactions", "cmt")}">{lab}{items}<p>أضف تعليقك</p></div>'


def _page(ctx, body, lang="ar", head_extra="", og=True, doctype="<!DOCTYPE html>", html_attrs=""):
    return f'{doctype}\n<html lang="{lang}" dir="rtl"{html_attrs}>{head(ctx, head_extra, og)}<body>{body}</body></html>'


def fam_aggregator(ctx):
    """The seed's style: article with share bar, audio, source, tags, embedded read-also, related list."""
    mn = []
    ra, ra_titles = embedded_read_also(ctx, mn)
    audio = '<audio controls><source src="/a.mp3">Your browser does not support audio tag.</audio>'
    mn.append("Your browser does not support audio tag.")
    body_cls = _cls(ctx, "news-body", "article-text", "story-body", "details")
    art = (f'<article class="{_cls(ctx, "news-details", "story", "item-page")}"><h1>{ctx["art"]["title"]}</h1>'
           f'<div class="meta">{date_html(ctx)}</div>{share_bar(ctx, mn)}'
           f'<div class="{body_cls}">{body_ps(ctx)}{audio}{source_line(ctx, mn)}</div>'
           f'{tags_block(ctx, mn)}{ra}{related_block(ctx, mn)}</article>')
    body = f'{nav(ctx)}<main>{art}{most_read(ctx, mn)}{newsletter(ctx, mn)}</main>{footer(ctx, mn)}'
    return {"html": _page(ctx, body), "must_not": mn, "related": ctx["related"], "read_also": ra_titles,
            "tags_shown": ctx["has_tags"]}


def fam_wordpress(ctx):
    """WordPress theme markup: entry-content, inline read-also, sharedaddy, tags-links, comments."""
    mn = []
    inline, h = inline_read_also(ctx, mn, 0)
    tags_html = ""
    if ctx["has_tags"]:
        links = ", ".join(f'<a href="/tag/{i}" rel="tag">{t}</a>' for i, t in enumerate(ctx["art"]["tags"]))
        tags_html = f'<span class="tags-links">{_pick(ctx, "الوسوم: ", "وسوم: ")}{links}</span>'
        mn.append("الوسوم")
    time = f'<time class="entry-date published" datetime="{ctx["date"]["iso"]}">{ctx["date"]["visible"]}</time>' \
        if ctx["date"]["style"] in ("time", "meta", "jsonld") else date_html(ctx)
    author = f'<span class="byline"> بقلم <span class="author vcard"><a class="url fn n" href="/author/x">{ctx["art"]["author"]}</a></span></span>'
    share = '<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">شارك هذا:</h3><ul><li><a href="#">واتساب</a></li></ul></div>'
    mn += ["شارك هذا", "واتساب"]
    art = (f'<article id="post-{ctx["n"]}" class="post-{ctx["n"]} post type-post status-publish">'
           f'<header class="entry-header"><h1 class="entry-title">{ctx["art"]["title"]}</h1>'
           f'<div class="entry-meta"><span class="posted-on">{time}</span>{author}</div></header>'
           f'<div class="entry-content">{body_ps(ctx, {1: inline})}{source_line(ctx, mn)}{share}</div>'
           f'<footer class="entry-footer">{tags_html}</footer></article>')
    cm = comments(ctx, mn)
    side = f'<div id="secondary" class="widget-area">{most_read(ctx, mn, "section")}</div>'
    body = f'<div id="page" class="site">{nav(ctx)}<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main">{art}{cm}</main></div>{side}</div>{footer(ctx, mn)}</div>'
    return {"html": _page(ctx, body), "must_not": mn, "related": [], "read_also": [h], "tags_shown": ctx["has_tags"],
            "author_shown": True}


def fam_modern(ctx):
    """JSON-LD-heavy modern page with obfuscated class names, mid-body ad and newsletter, related list."""
    mn = []
    r = ctx["rng"]
    c = lambda: f"css-{r.randrange(16**6):06x}"  # noqa: E731
    mid = {1: ad(ctx, mn), 2: newsletter(ctx, mn)}
    paras = "".join(f'<div class="{c()}"><p class="{c()}">{p}</p></div>' + mid.get(i, "") for i, p in enumerate(ctx["paragraphs"]))
    tag_meta = "".join(f'<meta property="article:tag" content="{t}">' for t in ctx["art"]["tags"])
    rel = related_block(ctx, mn, tag="div", cls=c())
    art = (f'<div class="{c()}" data-testid="article"><h1 class="{c()}">{ctx["art"]["title"]}</h1>'
           f'<div class="{c()}">{date_html(ctx)} {byline(ctx, mn)}</div>'
           f'<div class="{c()}" data-testid="body">{paras}{source_line(ctx, mn, "div")}</div>{rel}</div>')
    body = f'<div id="__next">{nav(ctx)}<div class="{c()}">{art}</div>{footer(ctx, mn, "div")}</div>'
    return {"html": _page(ctx, body, head_extra=ld_json(ctx) + tag_meta), "must_not": mn, "related": ctx["related"],
            "tags_shown": True, "author_shown": True}


def fam_legacy(ctx):
    """Legacy table layout in windows-1256, <br>-separated text, no h1, <font> title, no meta dates."""
    mn = []
    text = "<br><br>\n".join(ctx["paragraphs"])
    src = ""
    if ctx["attr_kind"] in ("source", "naqlan"):
        src_text = f"المصدر : {ctx['attribution']}" if ctx["attr_kind"] == "source" else f"نقلا عن {ctx['attribution']}"
        src = f"<br><br>{src_text}"
        mn.append(src_text)
    tags = ""
    if ctx["has_tags"]:
        tags = f'<tr><td class="small">كلمات دلالية: {"، ".join(ctx["art"]["tags"])}</td></tr>'
        mn.append("كلمات دلالية")
    links = "".join(f'<tr><td><a href="/n{i}.asp">{h}</a></td></tr>' for i, h in enumerate(ctx["related"][:4]))
    mn += ["مواضيع ذات صلة"] + ctx["related"][:4] + ["طباعة"]
    mn.append("جميع الحقوق محفوظة")
    declared = ctx["n"] % 2 == 0
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">' if declared else ""
    body = (f'<table width="100%"><tr><td class="logo">{ctx["site"]}</td></tr></table>'
            f'<table width="780" border="0"><tr><td width="180" valign="top"><a href="/">الرئيسية</a><br><a href="/a">أخبار محلية</a><br><a href="/b">عربي ودولي</a></td>'
            f'<td valign="top"><table><tr><td><font size="4" color="#990000"><b>{ctx["art"]["title"]}</b></font></td></tr>'
            f'<tr><td><font size="1">{ctx["date"]["visible"]}</font></td></tr>'
            f'<tr><td class="text"><font face="Tahoma">{text}{src}</font></td></tr>{tags}'
            f'<tr><td><b>مواضيع ذات صلة</b></td></tr>{links}<tr><td><a href="#">طباعة</a></td></tr></table></td></tr></table>'
            f'<table><tr><td align="center">جميع الحقوق محفوظة لجريدة {ctx["site"]} 2005 - 2025</td></tr></table>')
    html = f'<html dir="rtl"><head>{meta}<title>{ctx["site"]} :: {ctx["art"]["title"]}</title>{ctx["date"]["head"]}</head><body>{body}</body></html>'
    return {"html": html, "must_not": mn, "related": ctx["related"][:4], "tags_shown": ctx["has_tags"],
            "encoding": "cp1256"}


def fam_amp(ctx):
    """AMP page: amp-img, amp-ad, amp-social-share, JSON-LD, related via amp list."""
    mn = ["Advertisement" if ctx["en"] else "إعلان"]
    label = mn[0]
    amp_ad = f'<div class="amp-ad-wrap"><span class="lbl">{label}</span><amp-ad width="300" height="250" type="doubleclick"></amp-ad></div>'
    share = '<amp-social-share type="facebook"></amp-social-share><amp-social-share type="whatsapp"></amp-social-share>'
    rel = related_block(ctx, mn, label=_pick(ctx, "قد يهمك أيضا", "ذات صلة", "أخبار متعلقة"))
    art = (f'<article class="amp-wp-article"><header class="amp-wp-article-header"><h1 class="amp-wp-title">{ctx["art"]["title"]}</h1>'
           f'{date_html(ctx)}</header><amp-img src="/i.jpg" width="600" height="400" layout="responsive"></amp-img>'
           f'<div class="amp-wp-article-content">{body_ps(ctx, {0: amp_ad})}{source_line(ctx, mn)}</div>'
           f'{share}{tags_block(ctx, mn)}{rel}</article>')
    body = f'<header class="amp-wp-header"><div><a href="/">{ctx["site"]}</a></div></header>{art}{footer(ctx, mn)}'
    return {"html": _page(ctx, body, head_extra=ld_json(ctx, keywords=False) + '<script async src="https://cdn.ampproject.org/v0.js"></script>',
                          html_attrs=" amp"), "must_not": mn, "related": ctx["related"], "tags_shown": ctx["has_tags"]}


def fam_inline(ctx):
    """Body with several inline read-also boxes (link, list, blockquote) and a labelled comment section."""
    mn = []
    box1, h1 = inline_read_also(ctx, mn, 0)
    label2 = _pick(ctx, "طالع أيضا", "اقرأ المزيد", "إقرأ أيضا")
    box2 = (f'<div class="{_pick(ctx, "inline-box", "inbody", "x1")}"><span>{label2}</span><ul>'
            f'<li><a href="/n/71.html">{ctx["related"][1]}</a></li><li><a href="/n/72.html">{ctx["related"][2]}</a></li></ul></div>')
    mn += [label2, ctx["related"][1], ctx["related"][2]]
    blk = f'<blockquote class="q"><p>إقرأ ايضا</p><a href="/n/73.html">{ctx["related"][3]}</a></blockquote>'
    mn.append(ctx["related"][3])
    art = (f'<div class="{_cls(ctx, "article", "post-wrap", "single")}"><h1>{ctx["art"]["title"]}</h1>{byline(ctx, mn)}<div>{date_html(ctx)}</div>'
           f'<div class="{_cls(ctx, "text", "body-text", "c")}">{body_ps(ctx, {0: box1, 1: box2, 2: blk})}{source_line(ctx, mn)}</div>'
           f'{tags_block(ctx, mn)}{comments(ctx, mn)}</div>')
    body = f'{nav(ctx)}<div class="wrap">{art}{most_read(ctx, mn, "div")}</div>{footer(ctx, mn)}'
    return {"html": _page(ctx, body), "must_not": mn, "related": [], "read_also": [h1, ctx["related"][1], ctx["related"][2], ctx["related"][3]],
            "tags_shown": ctx["has_tags"], "author_shown": True}


def fam_english_chrome(ctx):
    """Arabic article inside English chrome: Read more, Share on, Related articles, Advertisement, Follow us."""
    mn = ["Share on Facebook", "Follow us on X and Instagram", "Advertisement"]
    follow = '<p class="follow">Follow us on X and Instagram</p>'
    rel = related_block(ctx, mn, label=_pick(ctx, "Related articles", "Related", "You may also like"), tag="div")
    art = (f'<div class="{_cls(ctx, "story-page", "article-page")}"><h1 class="headline">{ctx["art"]["title"]}</h1>'
           f'<p class="dateline">{ctx["date"]["visible"]}</p>{byline(ctx, mn)}'
           f'<div class="share-tools"><a href="#">Share on Facebook</a></div>'
           f'<div class="{_cls(ctx, "story-content", "rich-text")}">{body_ps(ctx, {1: ad(ctx, [])})}{source_line(ctx, mn)}{follow}</div>'
           f'{tags_block(ctx, mn, label="Tags:")}{rel}</div>')
    body = f'{nav(ctx)}{art}{most_read(ctx, mn)}{footer(ctx, mn)}'
    return {"html": _page(ctx, body, lang="ar"), "must_not": mn, "related": ctx["related"], "tags_shown": ctx["has_tags"],
            "author_shown": True}


def fam_flat(ctx):
    """Seed content in flat unclassed markup: plain lines for source/tags/ad/read-also/related/footer."""
    mn = []
    ra, ra_titles = embedded_read_also(ctx, mn, wrapped=False)
    tags = ""
    if ctx["has_tags"]:
        tags = f'<p>كلمات دلالية: {" ".join(f"<a href=/t/{i}>{t}</a>" for i, t in enumerate(ctx["art"]["tags"]))}</p>'
        mn.append("كلمات دلالية")
    label = _pick(ctx, "مقالات مشابهة", "أخبار ذات صلة")
    rel = f"<p>{label}</p><ul>" + "".join(f'<li><a href="/r/{i}">{h}</a></li>' for i, h in enumerate(ctx["related"])) + "</ul>"
    mn += [label, "إعلان", "جميع الحقوق محفوظة", "Your browser does not support audio tag."] + ctx["related"]
    inner = (f'<h1>{ctx["art"]["title"]}</h1><div>{ctx["date"]["visible"]}</div>{body_ps(ctx, {1: "<div>إعلان</div>"})}'
             f'<div>Your browser does not support audio tag.</div>{source_line(ctx, mn, "div")}{tags}{ra}{rel}')
    body = f'<div><a href="/">{ctx["site"]}</a></div><div>{inner}</div><div>جميع الحقوق محفوظة 2025</div>'
    return {"html": _page(ctx, body, og=False), "must_not": mn, "related": ctx["related"], "read_also": ra_titles,
            "tags_shown": ctx["has_tags"]}


FAMILIES = [
    ("aggregator", fam_aggregator), ("wordpress", fam_wordpress), ("modern", fam_modern), ("legacy", fam_legacy),
    ("amp", fam_amp), ("inline", fam_inline), ("english", fam_english_chrome), ("flat", fam_flat),
]
