"""Related headlines and "read also" links, harvested from labelled sections and related-classed blocks."""

from __future__ import annotations

import re
from collections.abc import Iterable

from crawler.extract import rules
from crawler.extract.boilerplate import Section, label_kind
from crawler.text import clean_text
from crawler.urls import join_url

MIN_HEADLINE_CHARS = 12
_TAG_SPLIT = re.compile(r"(?<!\s)\s*[،,|;؛]\s*")  # (?<!\s): linear on long runs of spaces
# A link whose anchor starts with its box's label ("اقرأ أيضا: <headline>" as one link): keep the headline.
_LEADING_LABEL = re.compile(
    rf"^\W*(?:{rules.READ_ALSO_WORDS})\s*[:：\-–—|»]?\s*(?=\S)", re.IGNORECASE | re.UNICODE
)


def absolute(href: str, base: str | None) -> str | None:
    """*href* made absolute; ``None`` for anchors, scripts and malformed URLs (``http://[x/``). Never raises."""
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    if not base:
        return href if "://" not in href or join_url(None, href) else None
    return join_url(base, href)


def headline_links(links: Iterable[tuple[str, str]], base: str | None) -> list[tuple[str, str]]:
    """(headline, absolute url) for links whose text reads like a headline, first occurrence kept."""
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for text, href in links:
        text = _LEADING_LABEL.sub("", clean_text(text), count=1)
        url = absolute(href, base)
        if not url or len(text) < MIN_HEADLINE_CHARS or len(text.split()) < 3 or label_kind(text):
            continue
        if (text, url) not in seen:
            seen.add((text, url))
            out.append((text, url))
    return out


def harvest(sections: Iterable[Section], base: str | None) -> tuple[list[dict], list[dict], list[str]]:
    """Return ``(related_headlines, read_also, tag_texts)`` from the page's sections."""
    related: list[dict] = []
    read_also: list[dict] = []
    tags: list[str] = []
    for sec in sections:
        if sec.kind == "related":
            related += [{"headline": t, "url": u} for t, u in headline_links(sec.links, base)]
        elif sec.kind == "read_also":
            read_also += [{"title": t, "url": u} for t, u in headline_links(sec.links, base)]
        elif sec.kind == "tags":
            found = [clean_text(t) for t, _ in sec.links if 0 < len(clean_text(t)) <= 60]
            if not found:  # a plain-text tag line: "كلمات دلالية: أ، ب، ج"
                rest = rules.SECTION_LABELS["tags"].sub("", sec.label, count=1)
                found = [t for t in (clean_text(x) for x in _TAG_SPLIT.split(rest)) if 0 < len(t) <= 60]
            tags += found
    return dedupe_links(related, "headline"), dedupe_links(read_also, "title"), list(dict.fromkeys(tags))


def dedupe_links(items: list[dict], key: str) -> list[dict]:
    """*items* without repeats of the same (text, url), first occurrence kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        k = (item[key], item["url"])
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out
