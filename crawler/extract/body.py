"""Main-text selection: score the blocks that hold paragraphs, pick the body, then filter its lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, UTC

from lxml import etree

from crawler.extract import rules
from crawler.extract.boilerplate import is_boilerplate_line, label_kind
from crawler.extract.dates import relative_date, text_date
from crawler.extract.lines import Layout, Line
from crawler.extract.metadata import agency_of, attribution_of, clean_author, split_keywords
from crawler.text import clean_text, normalize_for_matching

PARA_TAGS = frozenset("p blockquote pre h2 h3 h4 h5 h6 dd dt address".split())
GOOD_MIN_CHARS = 25
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # any instant: only "is there a relative time" matters
_SENTENCE_END = re.compile(r"[.!?؟:،,»\"”)]$")
_CLOCK = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
# A timestamp on its own line (live-blog entries, "10:30 ص"): never prose.
_CLOCK_ONLY = re.compile(r"^\W*\d{1,2}:\d{2}(?::\d{2})?\s*(?:ص|م|صباحا|مساء|am|pm|gmt|ت\.?غ)?\W*$", re.I)


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
    best = max(scores, key=scores.__getitem__)
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


@dataclass
class BodyResult:
    paragraphs: list[str] = field(default_factory=list)
    removed: int = 0
    attribution: str | None = None
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    read_also: list[tuple[str, str]] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)


def _is_date_line(text: str) -> bool:
    if len(text) > 90:
        return False
    return bool(text_date(text, 2100) or relative_date(text, _EPOCH))


def _is_dateline_meta(text: str) -> bool:
    """A short "نشر في: … | آخر تحديث: …" line: a publication/update label with a date or a clock time."""
    if len(text) > 140 or not rules.DATE_LABEL.search(text):
        return False
    return bool(_CLOCK.search(text) or text_date(text, 2100) or relative_date(text, _EPOCH))


def filter_lines(
    lines: Sequence[Line], title: str, extra: Sequence[re.Pattern[str]] = (),
    is_template: Callable[[str], bool] | None = None,
) -> BodyResult:
    """Turn the body's lines into paragraphs, routing source/tag/by-lines and link boxes to their fields."""
    res = BodyResult()
    title_key = normalize_for_matching(title)
    mode: str | None = None  # None | "links" (after a read-also/related label) | "embedded" (second article)
    label = ""
    seen_good = False
    source_label = False
    for line in lines:
        text = clean_text(line.text)
        if not text:
            continue
        kind = label_kind(text)
        if mode == "embedded":
            res.removed += 1
            continue
        if source_label:
            source_label = False
            if len(text) <= 60 and not line.heading:
                res.attribution = res.attribution or text.strip(" .،,:-")
                res.removed += 1
                continue
        if rules.SOURCE_LABEL.match(text):
            source_label = True
            res.removed += 1
            continue
        if _is_dateline_meta(text) or _CLOCK_ONLY.match(text):
            res.removed += 1
            continue
        if kind in ("read_also", "related", "most_read"):
            mode, label = "links", kind
            (res.read_also if kind == "read_also" else res.related).extend(line.links)
            res.removed += 1
            continue
        if mode == "links":
            if line.links and line.link_density >= 0.5:
                (res.read_also if label == "read_also" else res.related).extend(line.links)
                res.removed += 1
                if label == "read_also" and line.heading:
                    mode = "embedded"
                continue
            mode = None
        if (src := attribution_of(text)) is not None:
            res.attribution = res.attribution or src
            res.removed += 1
            continue
        if kind == "tags":
            names = [t for t, _ in line.links] or split_keywords([rules.SECTION_LABELS["tags"].sub("", text)])
            res.tags.extend(n for n in names if n)
            res.removed += 1
            continue
        if kind == "comments":
            mode = "embedded"  # everything after a comments label inside the body is comments
            res.removed += 1
            continue
        if is_boilerplate_line(text, extra) or kind or (is_template and is_template(text)):
            res.removed += 1
            continue
        if title_key and normalize_for_matching(text) == title_key:
            res.removed += 1
            continue
        if len(text) < 60 and (m := rules.AUTHOR_LINE.match(text)):
            if name := clean_author(m.group("name")):
                res.authors.append(name)
            res.removed += 1
            continue
        if line.link_density >= 0.6 and len(text) < 200:
            res.removed += 1
            continue
        if len(text) < 40 and (agency := agency_of(text)) and len(text.split()) <= 5:
            res.attribution = res.attribution or agency
            res.removed += 1
            continue
        if _is_date_line(text) and len(text) < 60 or not seen_good and (
            (len(text) < 30 and len(text.split()) <= 4 and not _SENTENCE_END.search(text))
            or (len(text) < 40 and text.startswith("(") and text.endswith(")"))
        ):
            res.removed += 1
            continue
        seen_good = True
        res.paragraphs.append(text)
    return res

