"""Rule-based boilerplate: labelled sections, chrome containers and boilerplate lines.

The rules themselves are data in :mod:`crawler.extract.rules`; this module applies them to a
:class:`~crawler.extract.lines.Layout`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from crawler.extract import rules
from crawler.extract.line_rules import LineRuleSet
from crawler.extract.lines import Layout, Line

_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
MAX_LABEL_CHARS = 60


@dataclass
class Section:
    """A labelled block (read-also box, related list, tags, comments...) found on the page."""

    kind: str
    elements: list[etree._Element]
    line_range: range
    label: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


def compile_extra(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    """Compile per-source boilerplate regexes, skipping (not raising on) invalid ones."""
    out = []
    for pat in patterns or ():
        try:
            out.append(re.compile(pat, re.IGNORECASE))
        except (re.error, TypeError):
            continue
    return out


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(compile_extra(patterns))


def compiled_extra(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """:func:`compile_extra`, cached: a source's patterns compiled once, not once per page or record."""
    return _compiled(tuple(patterns or ()))


@lru_cache(maxsize=1)
def _line_rules() -> LineRuleSet:
    """``rules.BOILERPLATE_LINES`` as a :class:`LineRuleSet`, built once per process."""
    return LineRuleSet(rules.BOILERPLATE_LINES)


def is_boilerplate_line(text: str, extra: Iterable[re.Pattern[str]] = ()) -> bool:
    """True when the whole line is chrome (player fallback, source line, share prompt, ad label...)."""
    if len(text) <= 400 and _line_rules().matches(text):
        return True
    return any(p.search(text) for p in extra)


@lru_cache(maxsize=1)
def _label_rules() -> LineRuleSet:
    """``rules.SECTION_LABELS`` as a :class:`LineRuleSet`: whether a line is any label, in one match."""
    return LineRuleSet(rules.SECTION_LABELS.values())


def label_kind(text: str) -> str | None:
    """Section kind named by a short label line, else ``None``."""
    if len(text) > 200 or not _label_rules().matches(text):
        return None
    for kind, pat in rules.SECTION_LABELS.items():
        if pat.search(text):
            # Long lines only count when they start a link ("اقرأ أيضا: <headline>") or a tag line.
            if len(text) > MAX_LABEL_CHARS and kind not in ("read_also", "tags"):
                continue
            return kind
    return None


def link_dominated(lines: Sequence[Line], share: float = 0.5) -> bool:
    chars = sum(len(ln.text) for ln in lines)
    return chars > 0 and sum(ln.link_chars for ln in lines) >= share * chars


def _may_climb(kind: str, rest: Sequence[Line]) -> bool:
    if not rest or kind in rules.FREE_TEXT_SECTIONS or link_dominated(rest):
        return True
    return kind == "read_also" and rest[0].heading and bool(rest[0].links)


def find_sections(lay: Layout, title_line: int | None = None) -> list[Section]:
    """Find labelled sections: the label line, climbed to the block it heads, plus the link lists after it."""
    sections: list[Section] = []
    lines, done = lay.lines, -1
    for i, line in enumerate(lines):
        if i < done:
            continue
        kind = label_kind(line.text)
        if kind is None:
            continue
        node = line.el
        if lay.spans.get(node, (i, i))[0] < i and len(lay.lines_of(node)) > 1:
            # The label is one <br>-separated line inside a block that started earlier (a body made of
            # text lines): the block is not the section. Keep only this line's links; the body filter
            # drops the line itself.
            sections.append(Section(kind, [], range(i, i + 1), line.text, list(line.links)))
            continue
        while True:
            parent = node.getparent()
            if parent is None or parent.tag in ("body", "html"):
                break
            start, end = lay.spans.get(parent, (0, 0))
            if start != i or (title_line is not None and start <= title_line < end):
                break
            if not _may_climb(kind, lines[i + 1 : end]):
                break
            node = parent
        elements = [node]
        end = lay.spans.get(node, (i, i + 1))[1]
        if end - i <= 1 and node.tag not in ("body", "html"):
            embedded = False
            sib = node.getnext()
            while sib is not None:
                s, e = lay.spans.get(sib, (end, end))
                seg = lines[s:e]
                if seg and (title_line is not None and s <= title_line < e or label_kind(seg[0].text)):
                    break
                if kind == "tags" and line.links:
                    break
                if seg and kind == "read_also" and len(elements) == 1 and seg[0].heading and seg[0].links:
                    embedded = True  # a second article: headline link, then its text to the block's end
                elif seg and not (embedded or kind == "comments" or link_dominated(seg)):
                    break
                elements.append(sib)
                end = max(end, e)
                sib = sib.getnext()
        links = [lk for ln in lines[i:end] for lk in ln.links]
        sections.append(Section(kind, elements, range(i, end), line.text, links))
        done = end
    return sections


def _tokens(el: etree._Element) -> list[str]:
    attrs = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("role"), el.get("itemprop"))))
    return [t for t in _TOKEN_SPLIT.split(attrs.lower()) if t] if attrs else []


def chrome_kind(el: etree._Element) -> str | None:
    """Why *el* looks like page chrome by tag or class/id tokens, else ``None``."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in rules.CHROME_TAGS:
        return tag
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return "hidden"
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return "hidden"
    if el.get("rel") == "tag":
        return "tags"
    if (el.get("itemprop") or "").lower() in rules.CHROME_ITEMPROPS and el.get("itemscope") is not None:
        return "microdata"
    for tok in _tokens(el):
        if rules.CHROME_TOKENS.match(tok):
            return tok
    return None


def chrome_elements(
    lay: Layout, root: etree._Element, good_prefix: list[int], title_line: int | None = None, protect: float = 0.4,
) -> list[etree._Element]:
    """Top-most chrome elements, never one that wraps the headline and much prose, or (when the
    headline is not located) one holding *protect* or more of the page's good text."""
    total = good_prefix[-1] or 1
    out: list[etree._Element] = []
    skip: etree._Element | None = None
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body"):
            continue
        if skip is not None and _is_inside(el, skip):
            continue
        kind = chrome_kind(el)
        if kind is None:
            continue
        s, e = lay.spans.get(el, (0, 0))
        if kind == "header" and title_line is not None and not s <= title_line < e and _in_article(el):
            continue  # an entry's own header inside an article (live-blog posts): its heading is content
        share = (good_prefix[e] - good_prefix[s]) / total
        if title_line is None and share >= protect or title_line is not None and s <= title_line < e and share >= 0.2:
            continue
        out.append(el)
        skip = el
    return out


def _in_article(el: etree._Element) -> bool:
    return any(anc.tag == "article" for anc in el.iterancestors())


def _is_inside(el: etree._Element, ancestor: etree._Element) -> bool:
    for anc in el.iterancestors():
        if anc is ancestor:
            return True
    return False
