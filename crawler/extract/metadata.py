"""Page metadata: meta tags, JSON-LD, title (without the site name), authors, tags, attribution."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from crawler.extract import rules
from crawler.text import clean_text, normalize_for_matching

logger = logging.getLogger(__name__)
_TRAILING_COMMA = re.compile(r",\s*+([}\]])")
_CTRL = re.compile(r"[\x00-\x1f]")
_SPACES = re.compile(r"\s+")
# (?<!\s): a split starts where a run of spaces starts, not at each of its spaces (linear on long runs).
_AUTHOR_SPLIT = re.compile(r"(?<!\s)(?:\s*[،,]\s*|\s+and\s+)")
_KEYWORD_SPLIT = re.compile(r"(?<!\s)\s*[,،|;]\s*")
#: JSON-LD strings longer than this are cut (no headline, name or date is longer); deeper nesting is dropped.
MAX_LD_STRING = 10_000
MAX_LD_DEPTH = 12
#: ``articleBody`` is the one long JSON-LD string: a whole article, its line breaks kept.
MAX_LD_BODY = 200_000
_LINE_SPACES = re.compile(r"[^\S\n]+")
# Where a run of whitespace holds a line break; begun only at a run's first character (the lookbehind),
# so a long run without one is tried once, not from each of its characters (quadratic).
_BLANK_LINES = re.compile(r"(?<!\s)\s*\n\s*")


def _tidy_ld(data: Any, depth: int = 0, key: str = "") -> Any:
    """JSON-LD with every string's whitespace collapsed and cut to MAX_LD_STRING, nesting bounded.

    Rules then meet one space where a page put 30,000, and a hostile block costs its size, not more.
    ``articleBody`` keeps its line breaks (one each) and may be MAX_LD_BODY long.
    """
    if isinstance(data, str):
        if key == "articleBody":
            text = _LINE_SPACES.sub(" ", data[: 2 * MAX_LD_BODY])
            return _BLANK_LINES.sub("\n", text).strip()[:MAX_LD_BODY]
        return _SPACES.sub(" ", data[: 4 * MAX_LD_STRING]).strip()[:MAX_LD_STRING]
    if depth >= MAX_LD_DEPTH:
        return None
    if isinstance(data, list):
        return [_tidy_ld(v, depth + 1, key) for v in data[:1000]]
    if isinstance(data, dict):
        return {k: _tidy_ld(v, depth + 1, k if isinstance(k, str) else "") for k, v in list(data.items())[:1000]}
    return data


@dataclass
class PageMeta:
    """What the page says about itself, before any body analysis."""

    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name/property/itemprop -> contents
    ld: list[dict[str, Any]] = field(default_factory=list)  # JSON-LD objects, flattened
    title_tag: str = ""
    canonical: str | None = None
    lang: str | None = None

    def first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                if value.strip():
                    return value.strip()
        return None

    def ld_article(self) -> dict[str, Any]:
        """The JSON-LD object that describes the article (or the first one with a headline)."""
        best: dict[str, Any] = {}
        for obj in self.ld:
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and rules.ARTICLE_TYPES.search(k) for k in kinds):
                return obj
            if not best and (obj.get("headline") or obj.get("datePublished")):
                best = obj
        return best


def _walk_ld(data: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            _walk_ld(item, out, depth + 1)
    elif isinstance(data, dict):
        out.append(data)
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if key in data and isinstance(data[key], (list, dict)):
                _walk_ld(data[key], out, depth + 1)


def read_meta(root: etree._Element) -> PageMeta:
    """Collect meta tags, itemprops, JSON-LD, <title>, canonical link and language."""
    pm = PageMeta()
    for el in root.iter("meta", "time", "span", "div", "link", "script", "title", "html"):
        tag = el.tag
        if tag == "script":
            if (el.get("type") or "").lower() == "application/ld+json" and el.text:
                raw = _CTRL.sub(" ", el.text.strip().removeprefix("<!--").removesuffix("-->"))
                try:
                    data = json.loads(raw)
                except RecursionError:
                    logger.debug("JSON-LD block nested too deep")
                    continue
                except ValueError:
                    try:
                        data = json.loads(_TRAILING_COMMA.sub(r"\1", raw))
                    except (ValueError, RecursionError):
                        logger.debug("unreadable JSON-LD block")
                        continue
                _walk_ld(_tidy_ld(data), pm.ld)
            continue
        if tag == "title":
            pm.title_tag = pm.title_tag or clean_text(el.text_content())
            continue
        if tag == "html":
            pm.lang = (el.get("lang") or el.get("xml:lang") or "").strip() or None
            continue
        if tag == "link":
            if "canonical" in (el.get("rel") or "").lower() and el.get("href"):
                pm.canonical = pm.canonical or el.get("href").strip()
            continue
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        value = el.get("content") or el.get("datetime") if tag != "meta" else el.get("content")
        if key and value:
            pm.meta.setdefault(key.strip().lower(), []).append(clean_text(value))
    return pm


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def site_name(pm: PageMeta) -> str | None:
    name = pm.first("og:site_name", "application-name", "twitter:site", "publisher")
    if not name:
        pub = pm.ld_article().get("publisher")
        name = (_names(pub) or [None])[0]
    return clean_text(name).lstrip("@") if name else None


def site_names(pm: PageMeta) -> list[str]:
    """Every name the page gives its site: og:site_name, application-name, twitter:site, the JSON-LD
    publisher, and the last part of <title> after a separator ("headline | Site"). A headline never
    equals one of them."""
    names = [pm.first(k) for k in ("og:site_name", "application-name", "twitter:site", "publisher")]
    names += _names(pm.ld_article().get("publisher"))
    names += [n for obj in pm.ld if obj.get("@type") in ("Organization", "NewsMediaOrganization", "WebSite")
              for n in _names(obj.get("name"))]
    parts = [p for p in rules.TITLE_SEPARATORS.split(pm.title_tag) if p.strip()]
    if len(parts) >= 2:
        names.append(parts[-1])
    out = [clean_text(n).lstrip("@") for n in names if isinstance(n, str) and n.strip()]
    return list(dict.fromkeys(n for n in out if n))


def strip_site_name(title: str, site: str | None) -> str:
    """Drop a " | site" / "site - " affix from a <title>-style headline."""
    parts = [p for p in rules.TITLE_SEPARATORS.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    key = normalize_for_matching(site or "")
    for idx in (-1, 0):
        part = normalize_for_matching(parts[idx])
        if key and (part == key or (len(part) > 2 and (part in key or key in part))):
            return title.replace(parts[idx], "", 1).strip(" |-–—:»«•·")
    last = parts[-1]
    if len(last.split()) <= 3 and len(parts[0].split()) > 3:
        return title[: title.rfind(last)].strip(" |-–—:»«•·")
    return title


def choose_title(pm: PageMeta, h1s: Sequence[str], page_lines: Sequence[str] = ()) -> str:
    """The headline: an <h1> confirmed by og:title / <title>, else og:title / JSON-LD, else the part of
    <title> that the page also shows as a line of its own, else <title> without the site name.

    A label the site puts before its headline ("عاجل | …", "فيديو | …") stays: it is part of the
    headline as published; only the site's name (:func:`site_names`) is taken off, and no candidate
    that is only the site's name is ever returned.
    """
    site = site_name(pm)
    ld = pm.ld_article()
    # A headline never equals the site's name: an og:title or <title> that is only the name (legacy
    # sites set og:title to it on every page) says nothing about this page.
    names = {normalize_for_matching(n) for n in site_names(pm)}
    declared = [t for t in (pm.first("og:title", "twitter:title"), ld.get("headline") if isinstance(ld.get("headline"), str) else None, pm.title_tag)
                if t and normalize_for_matching(t) not in names]
    h1s = [h for h in h1s if normalize_for_matching(h) not in names]
    keys = [normalize_for_matching(t) for t in declared]
    for h in h1s:
        hk = normalize_for_matching(h)
        if len(hk) > 8 and any(hk == k or (hk in k and len(hk) > 0.5 * len(k)) for k in keys):
            return clean_text(h)
    for t in declared[:-1]:
        return clean_text(strip_site_name(t, site))
    if declared:
        shown = {normalize_for_matching(x) for x in page_lines if len(x) < 300}
        parts = [p for p in rules.TITLE_SEPARATORS.split(declared[-1]) if len(p.split()) > 2]
        on_page = [p for p in parts if normalize_for_matching(p) in shown]
        if on_page:
            return clean_text(max(on_page, key=len))
        if affix := _shown_affix(declared[-1], page_lines):
            return affix
        return clean_text(strip_site_name(declared[-1], site))
    return clean_text(h1s[0]) if h1s else ""


def _shown_affix(title_tag: str, page_lines: Sequence[str]) -> str | None:
    """A page line that is the start or the end of <title>, the rest being a short name joined by
    punctuation ("Blog name: headline", "headline - Site" without spaces around the separator)."""
    tkey = normalize_for_matching(title_tag)
    best = None
    for line in page_lines:
        key = normalize_for_matching(line)
        if len(key.split()) < 3 or len(key) >= len(tkey) or len(key) < 0.4 * len(tkey):
            continue
        if tkey.endswith(key):
            rest = title_tag[: len(title_tag) - len(line.strip())] if title_tag.endswith(line.strip()) else ""
        elif tkey.startswith(key):
            rest = title_tag[len(line.strip()):] if title_tag.startswith(line.strip()) else ""
        else:
            continue
        if rest and _AFFIX_REST.match(rest) and (best is None or len(line) > len(best)):
            best = line
    return clean_text(best) if best else None


# Possessive leading spaces (*+): "\s*[sep]?\s*" then a class that also takes spaces split a run of
# spaces in cubic many ways.
_AFFIX_REST = re.compile(
    r"^\s*+[|\-–—:»«•·،]?\s*+[^|\-–—:»«•·]{1,40}?\s*[|\-–—:»«•·،]\s*$|^\s*+[|\-–—:»«•·،]\s*+[^|\-–—:»«•·]{1,40}$"
)


def clean_author(name: str, site: str | None = None) -> str | None:
    name = clean_text(rules.AUTHOR_PREFIX.sub("", clean_text(name)))
    name = name.strip(" :،,-–—|/()")
    if not name or rules.AUTHOR_REJECT.search(name) or len(name) > 60 or len(name.split()) > 6 or "://" in name or "@" in name:
        return None
    if site and normalize_for_matching(name) == normalize_for_matching(site):
        return None
    return name


def authors(pm: PageMeta, root: etree._Element, site: str | None, header_lines: Sequence[str] = ()) -> list[str]:
    """By-lines from JSON-LD, meta tags, by-line elements (rel/itemprop=author, author-classed, links to
    author pages; never a commenter's name), else a "بقلم …" line near the headline, without prefixes."""
    raw: list[str] = _names(pm.ld_article().get("author"))
    raw += pm.meta.get("author", []) + pm.meta.get("article:author", []) + pm.meta.get("dc.creator", [])
    if not raw:
        raw = _byline_elements(root, site)
    if not raw:
        raw = [name for line in header_lines if (name := byline_of(line))][:1]
    out: list[str] = []
    for name in raw:
        for part in _AUTHOR_SPLIT.split(name) if len(name) > 30 else [name]:
            cleaned = clean_author(part, site)
            if cleaned and cleaned not in out:
                out.append(cleaned)
    return out


def _in_comments(el: etree._Element) -> bool:
    for node in (el, *el.iterancestors()):
        if rules.COMMENT_CLASS.search(" ".join(filter(None, (node.get("class"), node.get("id"))))):
            return True
    return False


def _byline_elements(root: etree._Element, site: str | None) -> list[str]:
    """The first by-line element in document order that yields a plausible name."""
    for el in root.iter("a", "span", "div", "p", "address", "dd", "li"):
        href = (el.get("href") or "") if el.tag == "a" else ""
        if not (el.get("rel") == "author" or (el.get("itemprop") or "").lower() == "author"
                or rules.AUTHOR_CLASS.search(" ".join(filter(None, (el.get("class"), el.get("id")))))
                or (href and rules.AUTHOR_HREF.search(href))):
            continue
        text = el.text_content()
        if 2 < len(text.strip()) < 80 and not _in_comments(el) and clean_author(text, site):
            return [text]
    return []


def byline_of(line: str) -> str | None:
    """The name in a short by-line ("بقلم منى الشريف الأحد 12 مايو 2024"), cut before a date or separator."""
    if len(line) > 120 or not (m := rules.BYLINE_START.match(line)):
        return None
    name = rules.BYLINE_STOP.split(m.group("rest"), maxsplit=1)[0]
    name = clean_text(name).strip(" :،,-–—|/()")
    return name if 1 <= len(name.split()) <= 5 else None


def split_keywords(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for part in _KEYWORD_SPLIT.split(value):
            part = clean_text(part).strip("#")
            if part and len(part) <= 60 and part not in out:
                out.append(part)
    return out


def declared_tags(pm: PageMeta) -> list[str]:
    """Tags from article:tag meta, else JSON-LD keywords (meta keywords are too often site-wide)."""
    tags = split_keywords(pm.meta.get("article:tag", []))
    if not tags:
        kw = pm.ld_article().get("keywords")
        tags = split_keywords(kw if isinstance(kw, list) else [kw] if isinstance(kw, str) else [])
    return tags


def attribution_of(text: str) -> str | None:
    """The source named by a source line ("المصدر: …", "نقلا عن …"), else ``None``."""
    for pat in rules.ATTRIBUTION_LINES:
        m = pat.search(text)
        if m:
            return clean_text(m.group("src")).strip(" .،,:-")
    return None


def split_source_label(lines: Sequence[str]) -> str | None:
    """The source when its label stands on a line of its own and the name on the next ("المصدر" / "وكالات")."""
    for label, value in zip(lines, lines[1:]):
        if rules.SOURCE_LABEL.match(label) and 1 < len(value.strip()) <= 60 and not rules.SOURCE_LABEL.match(value):
            return clean_text(value).strip(" .،,:-")
    return None


def _agency_credit(text: str) -> re.Match[str] | None:
    for mark in rules.AGENCY_CREDIT_MARKS:  # most paragraphs hold none of them (no search at all)
        if mark in text:
            return rules.AGENCY_CREDIT.search(text)
    return None


def agency_of(text: str) -> str | None:
    """A news agency credited at the start or end of a paragraph ("القاهرة (أ ش أ) -", "- رويترز")."""
    m = _agency_credit(text[:120]) or _agency_credit(text[-40:])
    if not m:
        return None
    return next(g for g in (m.group("src"), m.group("src2"), m.group("src3")) if g)
