"""Body lines to paragraphs: the one set of line rules for crawled pages and imported records.

:func:`clean_lines` is what the page extractor runs on the lines of the body it
selected, and what :class:`crawler.extract.cleaner.ArticleCleaner` runs on the
lines of an imported record's text (as :meth:`Line.plain` lines). Boilerplate
lines (the rules of :mod:`crawler.extract.rules` plus a source's extra
patterns) are dropped; source lines fill the attribution, tag lines the tags,
by-lines the authors; a "read also" / related / most-read label starts a link
box and a comments label ends the body.

One difference comes from the input, not the rules: a page's lines say which
text is a link, a record's lines do not. A link box on a page ends at the
first line that is not mostly links; in a record it cannot be told apart from
prose, so a box runs to the end of the text, as the body after a comments
label does on a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crawler.extract import rules
from crawler.extract.boilerplate import is_boilerplate_line, label_kind
from crawler.extract.dates import relative_date, text_date
from crawler.extract.lines import Line
from crawler.extract.metadata import agency_of, attribution_of, clean_author, split_keywords
from crawler.text import clean_text, is_plain_nfkc, lam_mim_nun, normalize_for_matching

__all__ = ["CleanedLines", "clean_lines"]

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # any instant: only "is there a relative time" matters
_SENTENCE_END = re.compile(r"[.!?؟:،,»\"”)]$")
_CLOCK = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
# A timestamp on its own line (live-blog entries, "10:30 ص"): never prose.
_CLOCK_ONLY = re.compile(r"^\W*\d{1,2}:\d{2}(?::\d{2})?\s*(?:ص|م|صباحا|مساء|am|pm|gmt|ت\.?غ)?\W*$", re.I)


@dataclass
class CleanedLines:
    """What :func:`clean_lines` made of a body's lines.

    Args:
        paragraphs: the body, one paragraph a line, boilerplate removed.
        removed: how many lines were removed.
        attribution: the original source named by a source line (or an agency credit), else ``None``.
        tags: from a tag line ("كلمات دلالية: …").
        authors: from by-lines ("بقلم …"), in order, possibly repeated.
        read_also: (text, href) of the links in "read also" boxes (pages only).
        related: (text, href) of the links in related / most-read boxes (pages only).
        held: the removed lines that no boilerplate rule matched, only their shape (a short lead
            line, a date, the headline again): an imported record that is nothing else keeps them
            (a brief is an article), a page does not.
    """

    paragraphs: list[str] = field(default_factory=list)
    removed: int = 0
    attribution: str | None = None
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    read_also: list[tuple[str, str]] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def _is_date_line(text: str) -> bool:
    if len(text) > 90:
        return False
    return bool(text_date(text, 2100) or relative_date(text, _EPOCH))


def _is_dateline_meta(text: str) -> bool:
    """A short "نشر في: … | آخر تحديث: …" line: a publication/update label with a date or a clock time."""
    if len(text) > 140 or not rules.DATE_LABEL.search(text):
        return False
    return bool(_CLOCK.search(text) or text_date(text, 2100) or relative_date(text, _EPOCH))


# What a plain line (Line.plain) says besides its text, shared: no links, not a heading.
_PLAIN = Line.plain("")


def _in_box(line: Line) -> bool:
    """A line that belongs to the link box it follows: mostly links, or (a record's line) maybe links."""
    return not line.links_known or bool(line.links) and line.link_density >= 0.5


def clean_lines(
    lines: Sequence[Line | str], extra: Sequence[re.Pattern[str]] = (), *, title: str = "",
    is_template: Callable[[str], bool] | None = None,
) -> CleanedLines:
    """Turn body lines into paragraphs, routing source/tag/by-lines and link boxes to their fields.

    Args:
        lines: the body's lines, in order; a plain string is a line without link information
            (:meth:`Line.plain`), as an imported record's lines are.
        extra: a source's compiled ``boilerplate_patterns`` (a line matching one is dropped).
        title: the headline; a line repeating it is dropped.
        is_template: the site's learned template test (a line it knows is dropped).
    """
    res = CleanedLines()
    # The headline's matching form is made when a line may repeat it (few records have one). A
    # printable NFKC headline has as many of the three letters as its matching form: no step of
    # that form then adds one (nor ever removes one).
    title_key: str | None = None
    if is_plain_nfkc(title):
        title_letters = lam_mim_nun(title)
    else:
        title_key = normalize_for_matching(title)
        title_letters = lam_mim_nun(title_key)
    mode: str | None = None  # None | "links" (after a read-also/related label) | "embedded" (second article)
    label = ""
    seen_good = False
    source_label = False
    for line in lines:
        if isinstance(line, str):
            text, line = clean_text(line), _PLAIN
        else:
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
            if _in_box(line):
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
        if title and lam_mim_nun(text, title_letters) <= title_letters:
            if title_key is None:
                title_key = normalize_for_matching(title)
            if title_key and normalize_for_matching(text) == title_key:
                res.removed += 1
                res.held.append(text)
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
        if len(text) < 60 and _is_date_line(text) or not seen_good and (
            (len(text) < 30 and len(text.split()) <= 4 and not _SENTENCE_END.search(text))
            or (len(text) < 40 and text.startswith("(") and text.endswith(")"))
        ):
            res.removed += 1
            res.held.append(text)
            continue
        seen_good = True
        res.paragraphs.append(text)
    if res.attribution is None and res.paragraphs:
        res.attribution = agency_of(res.paragraphs[0]) or agency_of(res.paragraphs[-1])
    return res
