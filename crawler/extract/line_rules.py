"""A set of line regexes answered fast: "does any of these patterns match this line?".

The importer asks it of every line of every record (a few lines per article,
tens of thousands of articles a minute). Two exact shortcuts, both derived
from the patterns themselves, so that rules stay plain data:

* patterns that can only match at the start of a line (every top-level
  branch begins with ``^``, no MULTILINE) are tried together, as one
  alternation, with ``match``: one call instead of one per pattern, and no
  attempt at every position of a long line;
* every other pattern gets a *prefilter*: literal strings one of which any
  match must contain (read off the parsed pattern). A line that holds none
  of them is not searched at all. Literals with case are compared
  case-insensitively the way ``re.IGNORECASE`` compares them (see
  :func:`_fold`); those without (Arabic, digits, punctuation) only match
  themselves, and are looked for in the line as it is, without folding it.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterable
from typing import Any

__all__ = ["LineRuleSet"]

_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)


def _fold(text: str) -> str:
    """Lower case, plus what ``re.IGNORECASE`` also equates with ASCII letters (ı, ſ, İ)."""
    return text.lower().replace("ı", "i").replace("ſ", "s").replace("\u0307", "")


def _safe_literal(text: str) -> bool:
    """Literals compared through :func:`_fold` only: ASCII, or characters without case (Arabic)."""
    return all(ch.isascii() or ch.lower() == ch.upper() for ch in text)


#: A literal this long is rare enough in prose that a line holding it is worth searching.
_SELECTIVE = 3


def _cost(found: frozenset[str]) -> tuple[int, int]:
    """Smaller is a better prefilter: each literal is one scan of the line, and a short literal is
    met in most lines. Among sets of selective literals the one with fewer wins (its longest
    shortest literal on a tie); a set with a short literal only ever beats another such set."""
    shortest = min(map(len, found))
    return (len(found), -shortest) if shortest >= _SELECTIVE else (1 << 30, -shortest)


def _caseless(text: str) -> bool:
    """Characters that ``re.IGNORECASE`` matches only with themselves (no case, in any mapping)."""
    return text == text.lower() == text.upper()


def _required(items: Iterable[tuple[Any, Any]]) -> frozenset[str] | None:
    """Strings (as the pattern writes them) one of which every match of the parsed *items* contains, or None."""
    best: frozenset[str] | None = None

    def consider(found: frozenset[str] | None) -> None:
        nonlocal best
        if found and all(_safe_literal(x) for x in found):
            if best is None or _cost(found) < _cost(best):
                best = found

    run: list[str] = []
    for op, av in items:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        consider(frozenset({"".join(run)}) if run else None)
        run = []
        if op is sre_constants.BRANCH:
            alternatives = [_required(branch) for branch in av[1]]
            if all(alt is not None for alt in alternatives):
                consider(frozenset().union(*alternatives))  # type: ignore[arg-type]
        elif op is sre_constants.SUBPATTERN:
            consider(_required(av[3]))
        elif op in _REPEATS and av[0] >= 1:
            consider(_required(av[2]))
    consider(frozenset({"".join(run)}) if run else None)
    return best


def _parse(pat: re.Pattern[str]) -> list[tuple[Any, Any]] | None:
    try:
        return list(sre_parse.parse(pat.pattern, pat.flags))
    except Exception:  # noqa: BLE001 - an unparsable pattern is simply searched
        return None


def _starts_anchored(pat: re.Pattern[str], items: list[tuple[Any, Any]] | None) -> bool:
    if pat.flags & re.MULTILINE or not items:
        return False
    at_start = (sre_constants.AT, sre_constants.AT_BEGINNING)
    if len(items) == 1 and items[0][0] is sre_constants.BRANCH:
        return all(list(b) and list(b)[0] == at_start for b in items[0][1][1])
    return items[0] == at_start


def _alternation(patterns: list[re.Pattern[str]]) -> list[re.Pattern[str]]:
    """Patterns of equal flags joined into one alternation (those that cannot be, left alone)."""
    out: list[re.Pattern[str]] = []
    by_flags: dict[int, list[re.Pattern[str]]] = {}
    for pat in patterns:
        by_flags.setdefault(pat.flags, []).append(pat)
    for flags, group in by_flags.items():
        try:
            joined = re.compile("|".join(f"(?:{p.pattern})" for p in group), flags) if len(group) > 1 else group[0]
        except re.error:  # e.g. a pattern with global inline flags
            out.extend(group)
        else:
            out.append(joined)
    return out


class LineRuleSet:
    """Answers ``any(p.search(line) for p in patterns)``, the same answer, faster.

    Args:
        patterns: compiled regexes, searched anywhere in a line.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        anchored: list[re.Pattern[str]] = []
        # (pattern, searched whatever the line, literals looked for as they are, folded literals)
        self._searched: list[tuple[re.Pattern[str], bool, tuple[str, ...], tuple[str, ...]]] = []
        for pat in patterns:
            items = _parse(pat)
            if _starts_anchored(pat, items):
                anchored.append(pat)
                continue
            literals = _required(items) if items is not None else None
            if literals is None:
                self._searched.append((pat, True, (), ()))
            else:
                exact = tuple(sorted(lit for lit in literals if _caseless(lit)))
                folded = tuple(sorted({_fold(lit) for lit in literals if not _caseless(lit)}))
                self._searched.append((pat, False, exact, folded))
        self._anchored = tuple(_alternation(anchored))

    def matches(self, line: str) -> bool:
        """True when one of the patterns matches somewhere in *line*."""
        for p in self._anchored:
            if p.match(line):
                return True
        folded: str | None = None
        for pat, always, exact, cased in self._searched:
            if not always:
                for lit in exact:
                    if lit in line:
                        break
                else:
                    if not cased:
                        continue
                    if folded is None:
                        folded = _fold(line)
                    for lit in cased:
                        if lit in folded:
                            break
                    else:
                        continue
            if pat.search(line):
                return True
        return False
