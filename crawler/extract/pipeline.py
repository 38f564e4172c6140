"""The extraction steps in order: parse, read metadata, strip labelled sections and chrome, pick the body."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from crawler.extract import boilerplate, candidates, dates, metadata, related, rules
from crawler.extract.body import good_prefix, is_good, select_body
from crawler.extract.html import NotHTML, parse, to_text
from crawler.extract.lines import drop_unlaid, layout
from crawler.extract.model import Extraction
from crawler.extract.paragraphs import clean_lines
from crawler.extract.template import SiteTemplate, block_hash
from crawler.text import arabic_ratio, clean_text, normalize_for_matching

#: Bodies shorter than this (characters) are not articles.
MIN_TEXT_CHARS = 150
#: A page with this many headline links and little prose is a listing page.
LISTING_LINKS = 25
_TAG_TOKENS = re.compile(r"(?:^|[\s_-])(?:tags?|keywords|tagcloud|post-tags|hashtags?)(?:$|[\s_-])", re.I)
# A listing's teasers are cut off mid-sentence ("…وجمعوا أطنانا من...").
_TEASER_END = re.compile(r"(?:\.\.\.|…)\s*$")
_DATE_ONLY = re.compile(r"^[\w\s،,/:.-]{0,12}\d{1,4}[\w\s،,/:.-]{0,30}$")
_RELATED_TOKENS = re.compile(r"(?:^|[\s_-])(?:related|similar|relatedposts)(?:$|[\s_-])", re.I)


def _classes(el: etree._Element) -> str:
    return " ".join(filter(None, (el.get("class"), el.get("id"))))


def _chrome_tags(root: etree._Element) -> list[str]:
    """Tags from rel=tag links, else from links inside tag-classed blocks."""
    tags = [clean_text(a.text_content()) for a in root.iter("a") if "tag" in (a.get("rel") or "").split()]
    if not tags:
        for el in root.iter("div", "ul", "section", "p", "span", "nav"):
            if _TAG_TOKENS.search(_classes(el)):
                tags = [clean_text(a.text_content()) for a in el.iter("a")]
                if tags:
                    break
    return list(dict.fromkeys(t.lstrip("#") for t in tags if 0 < len(t) <= 60))


class TooSlow(NotHTML):
    """The page's time budget ran out between two extraction steps (reason ``too_slow``)."""

    def __init__(self) -> None:
        super().__init__("too_slow")


def _check(deadline: float | None) -> None:
    """Cooperative deadline, checked between steps (each step is bounded by the caps of the input)."""
    if deadline is not None and time.monotonic() > deadline:
        raise TooSlow


def run(
    html: str | bytes, url: str | None, *, fetched_at: datetime | None, encoding: str | None,
    extra: Sequence[re.Pattern[str]], template: SiteTemplate | None, deadline: float | None = None,
) -> Extraction:
    page = to_text(html, encoding)
    root = parse(page)
    _check(deadline)
    pm = metadata.read_meta(root)
    base = url or pm.canonical
    media = sum(1 for _ in root.iter("audio", "video"))
    etree.strip_elements(root, *rules.DROP_TAGS, with_tail=False)
    _drop_forms(root)
    body_el = root.find("body")
    scope = body_el if body_el is not None else root
    lay = layout(scope)
    drop_unlaid(lay, scope)  # a page over the line cap: what the layout never reached goes
    if lay.capped:  # and a second opinion reads what is left, not the whole page (250,000 lines: 9 s)
        page = etree.tostring(root, encoding="unicode", method="html")
    _check(deadline)
    site = metadata.site_name(pm)

    h1s = [ln.text for ln in lay.lines if ln.el.tag == "h1"]
    title = metadata.choose_title(pm, h1s, [ln.text for ln in lay.lines])
    tkey = normalize_for_matching(title)
    title_line = next((i for i, ln in enumerate(lay.lines) if ln.heading and normalize_for_matching(ln.text) == tkey), None)
    if title_line is None:
        title_line = next((i for i, ln in enumerate(lay.lines) if normalize_for_matching(ln.text) == tkey), None)

    # Dates, authors and tags are read before any block is removed.
    start = title_line if title_line is not None else 0
    header_text = "\n".join(ln.text for ln in lay.lines[max(0, start - 3): start + 10])
    page_text = "\n".join(ln.text for ln in lay.lines)[:30_000]
    published, source = dates.find_date(pm.first, pm.ld_article(), root, base, header_text, page_text, fetched_at)
    _check(deadline)
    if published is None and (hd := dates.htmldate_fallback(copy.deepcopy(root), base)):
        published, source = hd, "htmldate"
    authors = metadata.authors(pm, root, site, [ln.text for ln in lay.lines[max(0, start - 3): start + 10]])
    chrome_tags = _chrome_tags(root)
    hashes = list(dict.fromkeys(h for ln in lay.lines if (h := block_hash(ln.text))))
    is_tpl = template.is_template if template is not None and template.pages else None

    _check(deadline)
    sections = boilerplate.find_sections(lay, title_line)
    rel, read_also, sec_tags = related.harvest(sections, base)
    attribution = next((a for ln in lay.lines if len(ln.text) < 120 and (a := metadata.attribution_of(ln.text))), None)
    attribution = attribution or metadata.split_source_label([ln.text for ln in lay.lines])

    def good(line) -> bool:  # noqa: ANN001
        return is_good(line, extra, is_tpl)

    _check(deadline)
    prefix = good_prefix(lay, good)
    chrome = boilerplate.chrome_elements(lay, scope, prefix, title_line)
    removed = media
    for el in chrome:
        if _RELATED_TOKENS.search(_classes(el)):
            links = [lk for i in lay.lines_of(el) for lk in lay.lines[i].links]
            rel += [{"headline": t, "url": u} for t, u in related.headline_links(links, base)]
    for el in [e for s in sections for e in s.elements]:
        removed += len(lay.lines_of(el))
        if el.getparent() is not None:
            el.drop_tree()

    covered = sum(prefix[e] - prefix[s] for s, e in (lay.spans.get(el, (0, 0)) for el in chrome))
    if prefix[-1] and prefix[-1] - covered < 0.1 * prefix[-1]:
        chrome = []  # the chrome rules would eat the body: trust the prose instead
    for el in chrome:
        removed += len(lay.lines_of(el))
        if el.getparent() is not None:
            el.drop_tree()
    _check(deadline)
    lay2 = layout(scope)
    _check(deadline)
    body_idx = select_body(lay2, good)
    res = clean_lines([lay2.lines[i] for i in body_idx], extra, title=title, is_template=is_tpl)
    weak = _weakness(res, lay2, body_idx, good)
    body_source = "page"
    page_type = pm.first("og:type") or _ld_type(pm)
    own = Extraction(text="\n".join(res.paragraphs), paragraphs=res.paragraphs, page_type=page_type)
    # A listing page is not a weak article: its verdict comes from its own structure, and no second
    # opinion is asked to turn its teasers into a body.
    if weak is not None and _not_article_reason(own, lay2, base) != "listing_page":
        _check(deadline)
        res, body_source = _consult(res, page, base, lay.lines, pm, extra, title, is_tpl)
    removed += res.removed
    paragraphs = res.paragraphs
    text = "\n".join(paragraphs)
    rel += [{"headline": t, "url": u} for t, u in related.headline_links(res.related, base)]
    read_also += [{"title": t, "url": u} for t, u in related.headline_links(res.read_also, base)]
    attribution = attribution or res.attribution  # res's falls back on an agency credit in the body
    tags = sec_tags or chrome_tags or res.tags or metadata.declared_tags(pm)

    ext = Extraction(
        is_article=True, title=title, text=text, paragraphs=paragraphs, published_at=published,
        date_source=source, authors=authors or list(dict.fromkeys(res.authors)), tags=tags,
        attribution=attribution, related_headlines=related.dedupe_links(rel, "headline"),
        read_also=related.dedupe_links(read_also, "title"),
        canonical_url=pm.canonical, lang=pm.lang, page_type=page_type, boilerplate_removed=removed,
        body_source=body_source, body_weakness=weak, block_hashes=hashes,
    )
    ext.reason = _not_article_reason(ext, lay2, base)
    ext.is_article = ext.reason is None
    return ext


def _weakness(res, lay, body_idx: list[int], good) -> str | None:  # noqa: ANN001
    """The weak rule (crawler/extract/candidates.py) that holds for the page's own body, else None."""
    body = [lay.lines[i] for i in body_idx]
    chars = sum(len(ln.text) for ln in body)
    link_share = sum(ln.link_chars for ln in body) / chars if chars else 0.0
    page_good = sum(len(ln.text) for ln in lay.lines if good(ln))
    prose_share = sum(len(ln.text) for ln in body if good(ln)) / page_good if page_good else 1.0
    return candidates.weakness(res, link_share, prose_share)


def _consult(res, page: str, base: str | None, lines, pm, extra, title: str, is_tpl):  # noqa: ANN001
    """The page's weak body against its JSON-LD articleBody and trafilatura's: (cleaned lines, source)."""
    def clean(body):  # noqa: ANN001, ANN202 - every candidate goes through the same line rules
        return clean_lines(body, extra, title=title, is_template=is_tpl)

    own = candidates.Candidate("page", res)
    # The page's own declaration first: a JSON-LD body that wins needs no second opinion.
    if (ld := candidates.ld_body(pm.ld_article(), clean)) is not None and candidates.choose([own, ld]) is ld:
        return ld.res, ld.source
    found = [own] + [c for c in (ld, candidates.second_opinion(page, base, lines, clean)) if c is not None]
    won = candidates.choose(found)
    return won.res, won.source


def _drop_forms(root: etree._Element) -> None:
    """Drop search and comment forms; unwrap a form that holds the page: FORM_KEEP_CHARS of text or
    half the page's (``rules.FORM_KEEP_CHARS``)."""
    forms = list(root.iter("form"))
    if not forms:
        return
    body = root.find("body")
    half = len((body if body is not None else root).text_content().strip()) / 2
    for form in reversed(forms):  # inner forms first: an outer one is measured without them
        chars = len(form.text_content().strip())
        if chars >= rules.FORM_KEEP_CHARS or chars >= half:
            form.drop_tag()
        else:
            form.drop_tree()


def _ld_type(pm: metadata.PageMeta) -> str | None:
    kind = pm.ld_article().get("@type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


def _not_article_reason(ext: Extraction, lay, base: str | None) -> str | None:  # noqa: ANN001
    if not ext.paragraphs:
        prose = any(ln.link_density < 0.5 and len(ln.text) > 1 for ln in lay.lines)
        return "too_short" if prose else "no_body"
    headline_links = sum(1 for ln in lay.lines if ln.links and ln.link_density > 0.8 and len(ln.text) > 20)
    declared_listing = bool(ext.page_type and rules.LISTING_TYPES.match(ext.page_type))
    if len(ext.text) < 600 and headline_links >= LISTING_LINKS and (declared_listing or len(ext.paragraphs) < 3):
        return "listing_page"
    if _mostly_teasers(ext.paragraphs):
        return "listing_page"
    if len(ext.text) < MIN_TEXT_CHARS:
        return "too_short"
    if arabic_ratio(ext.text) < 0.5:
        return "not_arabic"
    return None


def _mostly_teasers(paragraphs: list[str]) -> bool:
    """A section page: its "paragraphs" are truncated teasers and dates, not prose."""
    teasers = sum(1 for p in paragraphs if _TEASER_END.search(p))
    if not teasers:
        return False
    prose = sum(len(p) for p in paragraphs if not _TEASER_END.search(p) and not _DATE_ONLY.match(p))
    return prose < MIN_TEXT_CHARS or (teasers >= 2 and teasers >= 0.4 * len(paragraphs))
