"""Flatten a parsed page into visual lines, remembering which element each came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

BLOCK_TAGS = frozenset(
    "p div section article main header footer aside nav ul ol li dl dt dd table tbody thead tfoot tr td th "
    "blockquote h1 h2 h3 h4 h5 h6 figure figcaption pre address center hr form fieldset details summary "
    "menu caption".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_SPACE = re.compile(r"\s+")
#: A page's layout stops after this many lines or characters of text: the longest news article is a
#: few hundred lines and some 100,000 characters; what follows on a hostile page (250,000
#: <br>-separated lines, megabytes of rule-baiting lines) would only cost time and memory.
MAX_LINES = 10_000
MAX_CHARS = 400_000


@dataclass
class Line:
    """One visual line of text (a paragraph, a heading, a list item, a ``<br>``-separated run)."""

    text: str
    el: etree._Element | None  # nearest block-level ancestor (or the element broken by <br>); None: plain text
    link_chars: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (anchor text, href)
    heading: bool = False
    links_known: bool = True  # False: a line of plain text (an imported record's), links unknown

    @classmethod
    def plain(cls, text: str) -> Line:
        """A line of plain text, not from a page: no element, and no knowledge of its links."""
        return cls(text, None, links_known=False)

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text))


@dataclass
class Layout:
    """All lines of a tree plus, per element, the half-open range of line indices it spans."""

    lines: list[Line]
    spans: dict[etree._Element, tuple[int, int]]
    capped: bool = False
    cut: tuple[str, etree._Element] | None = None  # the walk's event where the caps stopped it

    def lines_of(self, el: etree._Element) -> range:
        start, end = self.spans.get(el, (0, 0))
        return range(start, end)


def drop_unlaid(lay: Layout, root: etree._Element) -> None:
    """Remove from the tree what a capped layout never reached (everything after its cut point).

    Later steps (chrome search, date heuristics) then walk only what the layout holds. Whole runs
    of siblings go in one slice deletion each, not one Python step per element.
    """
    if lay.cut is None:
        return
    event, el = lay.cut
    node, first = el, (0 if event == "start" else 1)
    while node is not root and node is not None:
        parent = node.getparent()
        if parent is None:
            break
        del parent[parent.index(node) + first:]
        node, first = parent, 1


def layout(root: etree._Element, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> Layout:
    """Walk *root* once and return its :class:`Layout`. Iterative: no recursion limit.

    The walk stops after *max_lines* lines or *max_chars* characters (``Layout.capped``); elements
    open at that point span to the last line, later ones span nothing.
    """
    lines: list[Line] = []
    spans: dict[etree._Element, tuple[int, int]] = {}
    starts: dict[etree._Element, int] = {}
    buf: list[str] = []
    link_chars = 0
    links: list[tuple[str, str]] = []
    anchor: list[object] = []  # [element, text parts] while inside <a>
    block_stack: list[etree._Element] = [root]
    heading_depth = 0
    chars = 0

    def flush() -> None:
        nonlocal buf, link_chars, links, chars
        text = _SPACE.sub(" ", "".join(buf)).strip()
        if anchor and anchor[1]:  # a link wrapping a block: credit its text to this line
            atext = _SPACE.sub(" ", "".join(anchor[1])).strip()  # type: ignore[arg-type]
            if atext:
                links.append((atext, anchor[0].get("href") or ""))  # type: ignore[attr-defined]
            anchor[1] = []
        if text:
            lines.append(Line(text, block_stack[-1], min(link_chars, len(text)), links, heading_depth > 0))
            chars += len(text)
        buf, link_chars, links = [], 0, []

    def add(text: str | None) -> None:
        nonlocal link_chars
        if text:
            buf.append(text)
            if anchor:
                anchor[1].append(text)  # type: ignore[attr-defined]
                link_chars += len(text.strip())

    cut: tuple[str, etree._Element] | None = None
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if len(lines) >= max_lines or chars >= max_chars:
            cut = (event, el)
            break
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS or tag == "br":
                flush()
            if tag in BLOCK_TAGS:
                block_stack.append(el)
                heading_depth += tag in HEADING_TAGS
            starts[el] = len(lines)
            if tag == "a" and not anchor:
                anchor[:] = [el, []]
            add(el.text)
        else:
            if tag in BLOCK_TAGS:
                flush()
            spans[el] = (starts.pop(el, len(lines)), len(lines))
            if tag in BLOCK_TAGS:
                block_stack.pop()
                heading_depth -= tag in HEADING_TAGS
            if tag == "a" and anchor and anchor[0] is el:
                text = _SPACE.sub(" ", "".join(anchor[1])).strip()  # type: ignore[arg-type]
                if text:
                    links.append((text, el.get("href") or ""))
                anchor.clear()
            if el is not root:
                add(el.tail)
    if cut is not None:
        del lines[max_lines:]
        for el, start in starts.items():  # still open: they span to the last line kept
            spans[el] = (min(start, len(lines)), len(lines))
    else:
        flush()
    return Layout(lines, spans, cut is not None, cut)
