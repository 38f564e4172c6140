"""Main-text selection: score the blocks that hold paragraphs and pick the body.

The body's lines are then filtered by :func:`crawler.extract.paragraphs.clean_lines`, the line rules
imported records go through too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lxml import etree

from crawler.extract.boilerplate import is_boilerplate_line, label_kind
from crawler.extract.lines import Layout, Line

PARA_TAGS = frozenset("p blockquote pre h2 h3 h4 h5 h6 dd dt address".split())
GOOD_MIN_CHARS = 25
#: Climbing from the best container to an ancestor: each character of non-prose (links, short lines,
#: labels) the ancestor adds costs this many characters of prose it adds.
CLIMB_COST = 1.0
#: ... and is taken only when it gains this share of the net prose (a lead or a status line beside the
#: body is left to the sibling rule, which judges it on its own).
CLIMB_GAIN = 0.25


def is_good(line: Line, extra: Sequence[re.Pattern[str]] = (), is_template: Callable[[str], bool] | None = None) -> bool:
    """A line that reads like body prose: long enough, few links, no boilerplate rule, not template."""
    if len(line.text) < GOOD_MIN_CHARS or line.link_density > 0.4 or line.heading:
        return False
    if is_boilerplate_line(line.text, extra) or label_kind(line.text):
        return False
    return not (is_template and is_template(line.text))


def good_prefix(lay: Layout, good: Callable[[Line], bool]) -> list[int]:
    """Prefix sums of good characters over the lines (for O(1) "good text inside element")."""
    out = [0]
    for line in lay.lines:
        out.append(out[-1] + (len(line.text) if good(line) else 0))
    return out


def _container(el: etree._Element) -> etree._Element | None:
    if el.tag in PARA_TAGS:
        return el.getparent()
    if el.tag == "li":
        parent = el.getparent()
        return parent.getparent() if parent is not None else None
    return el


def _climb(best: etree._Element, lay: Layout, good: Callable[[Line], bool]) -> etree._Element:
    """The ancestor of *best* (itself included) with the most prose net of non-prose, as the child
    of it that holds *best* (its siblings are then judged one by one).

    A body split into one wrapper per paragraph, or into columns between ads, scores its best
    container on one part only; the ancestor that holds all parts gains more prose than it adds
    chrome. Net = good chars - CLIMB_COST x other chars; a step up must gain CLIMB_GAIN of the net.
    """
    prefix_good, prefix_all = [0], [0]
    chain = [best, *(a for a in best.iterancestors() if a.tag not in ("body", "html"))]
    lo = min(lay.spans.get(el, (0, 0))[0] for el in chain)
    hi = max(lay.spans.get(el, (0, 0))[1] for el in chain)
    for line in lay.lines[lo:hi]:
        n = len(line.text)
        prefix_all.append(prefix_all[-1] + n)
        prefix_good.append(prefix_good[-1] + (n if good(line) else 0))
    chosen, best_net = 0, None
    for i, el in enumerate(chain):
        start, end = lay.spans.get(el, (lo, lo))
        g = prefix_good[end - lo] - prefix_good[start - lo]
        net = g - CLIMB_COST * (prefix_all[end - lo] - prefix_all[start - lo] - g)
        if best_net is None or net > best_net + max(GOOD_MIN_CHARS, CLIMB_GAIN * best_net):
            chosen, best_net = i, net
    # The child of the chosen ancestor on the way up: select_body then takes that child and those
    # of its siblings that hold prose, so a status line or a caption beside the body stays out.
    return chain[max(0, chosen - 1)]


def select_body(lay: Layout, good: Callable[[Line], bool]) -> list[int]:
    """Indices of the lines of the body: the best-scoring container plus prose-holding siblings."""
    scores: dict[etree._Element, float] = {}
    for line in lay.lines:
        if not good(line):
            continue
        weight = len(line.text) * (1.0 - line.link_density)
        container = _container(line.el)
        if container is None:
            continue
        scores[container] = scores.get(container, 0.0) + weight
        grand = container.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + weight * 0.5
    if not scores:
        return []
    best = _climb(max(scores, key=scores.__getitem__), lay, good)
    if best not in scores:  # climbed: its weight is the prose it holds
        scores[best] = sum(len(ln.text) * (1.0 - ln.link_density) for i in lay.lines_of(best) if good(ln := lay.lines[i]))
    members = [best]
    parent = best.getparent()
    if parent is not None and best.tag not in ("body", "html"):
        members = []
        for sib in parent:
            if sib is best:
                members.append(sib)
                continue
            seg = [lay.lines[i] for i in lay.lines_of(sib)]
            good_chars = sum(len(ln.text) for ln in seg if good(ln))
            total = sum(len(ln.text) for ln in seg) or 1
            if good_chars >= 0.25 * scores[best] or (good_chars >= 60 and good_chars >= 0.7 * total):
                members.append(sib)
    out: list[int] = []
    for el in members:
        out.extend(lay.lines_of(el))
    return out
