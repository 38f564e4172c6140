"""Body candidates and the rules that choose between them.

The page's own candidate is the body :func:`crawler.extract.body.select_body` picked. When it is weak
(:data:`WEAK_RULES`), two more are consulted: the JSON-LD ``articleBody`` the page declares, and a
second opinion from trafilatura (called as a library on the same page). Every candidate goes through
the same line rules (:func:`crawler.extract.paragraphs.clean_lines`: Arabic boilerplate, attribution,
tags, related and read-also boxes), so whichever wins is cleaned the same way; the winner is the
candidate with the most prose (:func:`prose_chars`), the page's own candidate keeping ties and
near-ties (:data:`SWITCH_MARGIN`). Language plays no part: the rules look at structure only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crawler.extract.lines import Line
from crawler.extract.paragraphs import CleanedLines, clean_lines
from crawler.text import clean_text

logger = logging.getLogger(__name__)

#: A body shorter than this (characters) is weak: a teaser, a lead, a caption.
WEAK_CHARS = 500
#: A body whose lines are this much link text is weak: a list of headlines, not prose.
WEAK_LINK_SHARE = 0.35
#: A body holding less than this share of the page's prose is weak: the rest is probably body too.
WEAK_PROSE_SHARE = 0.4
#: Another candidate replaces the page's own only with this many times its prose.
SWITCH_MARGIN = 1.2
#: A paragraph counts as prose from this many characters (shorter: labels, captions, dates).
PROSE_MIN_CHARS = 25

#: When the page's candidate is weak, as (name, test) pairs, checked in order; the first that holds is
#: the reason reported in ``Extraction.body_reason``.
WEAK_RULES: tuple[tuple[str, Callable[[CleanedLines, float, float], bool]], ...] = (
    ("no_body", lambda res, links, share: not res.paragraphs),
    ("short", lambda res, links, share: sum(len(p) for p in res.paragraphs) < WEAK_CHARS),
    ("mostly_links", lambda res, links, share: links >= WEAK_LINK_SHARE),
    ("minor_share", lambda res, links, share: share < WEAK_PROSE_SHARE),
)

_LD_SPLIT = re.compile(r"\s*\n\s*")
# trafilatura writes a table row as "| cell | cell |" (a "|" inside a cell escaped as "\|").
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(row: str) -> list[str]:
    """A trafilatura text line as the page's lines: a table row split into its cells."""
    row = row.strip()
    if len(row) > 1 and row.startswith("|") and row.endswith("|"):
        return [c.replace("\\|", "|") for c in _CELL_SPLIT.split(row[1:-1])]
    return [row]


@dataclass
class Candidate:
    """One body: where it comes from (``page``, ``jsonld``, ``trafilatura``) and its cleaned lines."""

    source: str
    res: CleanedLines

    @property
    def prose(self) -> int:
        return prose_chars(self.res.paragraphs)


def prose_chars(paragraphs: Sequence[str]) -> int:
    """The candidate's quality signal: characters in paragraphs long enough to be prose."""
    return sum(len(p) for p in paragraphs if len(p) >= PROSE_MIN_CHARS)


def weakness(res: CleanedLines, link_share: float, prose_share: float) -> str | None:
    """The first :data:`WEAK_RULES` name that holds for the page's candidate, else ``None``."""
    return next((name for name, test in WEAK_RULES if test(res, link_share, prose_share)), None)


def choose(cands: Sequence[Candidate]) -> Candidate:
    """The page's own candidate (``cands[0]``) unless another has SWITCH_MARGIN times its prose;
    among the others, the one with the most prose."""
    own = cands[0]
    best = max(cands[1:], key=lambda c: c.prose, default=None)
    if best is not None and best.prose > SWITCH_MARGIN * own.prose and best.prose >= PROSE_MIN_CHARS:
        return best
    return own


def ld_body(ld: dict, clean: Callable[[Sequence[Line | str]], CleanedLines]) -> Candidate | None:
    """The JSON-LD ``articleBody`` as a candidate (one paragraph a line of it)."""
    body = ld.get("articleBody")
    if isinstance(body, list):
        body = "\n".join(b for b in body if isinstance(b, str))
    if not isinstance(body, str) or not body.strip():
        return None
    lines = [clean_text(x) for x in _LD_SPLIT.split(body.strip())]
    return Candidate("jsonld", clean([x for x in lines if x]))


def second_opinion(page: str, url: str | None, lines: Sequence[Line],
                   clean: Callable[[Sequence[Line | str]], CleanedLines]) -> Candidate | None:
    """trafilatura's body for the same page, as the page's own lines where they match it.

    Mapping its text back onto the page's lines keeps what a line knows (its links, whether it is a
    heading), so the read-also, related and tag rules work as on the page's own candidate; when the
    lines do not cover its text (it joined or split them differently), its own lines are used.
    """
    try:
        import trafilatura  # imported on first use: most pages never need it

        text = trafilatura.extract(page, url=url, include_comments=False, include_tables=True,
                                   deduplicate=False, with_metadata=False)
    except Exception:  # noqa: BLE001 - a second opinion that fails is no opinion
        logger.debug("trafilatura failed on %s", url, exc_info=True)
        return None
    if not text or not text.strip():
        return None
    theirs = [clean_text(cell) for row in text.splitlines() for cell in _cells(row)]
    theirs = [x for x in theirs if x]
    exact = set(theirs)
    joined = "\n".join(theirs)
    matched = [ln for ln in lines
               if (t := clean_text(ln.text)) in exact or (len(t) >= PROSE_MIN_CHARS and t in joined)]
    if sum(len(ln.text) for ln in matched) >= 0.8 * sum(len(x) for x in theirs):
        return Candidate("trafilatura", clean(matched))
    return Candidate("trafilatura", clean(theirs))


__all__ = ["Candidate", "choose", "clean_lines", "ld_body", "prose_chars", "second_opinion", "weakness"]
