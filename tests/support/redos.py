"""Adversarial inputs for a regular expression, built from the pattern itself.

For every repetition of a pattern (``*``, ``+``, ``{m,n}``, at any depth) the
inputs are: the shortest text that leads the pattern to that repetition, then a
long run of each kind of character the repetition accepts, then a character
that fails the match. A pattern whose matching time grows faster than its input
(nested or adjacent quantifiers that accept the same characters, a leading
``\\s+`` tried at every position of a run) takes seconds on them; a linear one
takes milliseconds.
"""

from __future__ import annotations

import re
import re._constants as c
import re._parser as p
from collections.abc import Iterator
from typing import Any

#: Characters tried as the content of a run: the kinds of text real pages repeat.
POOL = (" ", "a", "1", "!", "-", ".", "،", "ا", "(", "|", ":", "/", "\t", "\n", "_", "#", "<", ">", "'", '"')
FAIL = "\x00"


def _category_ok(cat: Any, ch: str) -> bool:
    name = str(cat).upper()
    neg = "NOT_" in name
    if "DIGIT" in name:
        ok = ch.isdigit()
    elif "SPACE" in name:
        ok = ch.isspace()
    elif "WORD" in name:
        ok = ch.isalnum() or ch == "_"
    elif "LINEBREAK" in name:
        ok = ch == "\n"
    else:
        ok = False
    return ok != neg


def _in_set(items: list[tuple[Any, Any]], ch: str, flags: int) -> bool:
    neg = False
    hit = False
    chars = {ch, ch.lower(), ch.upper()} if flags & re.IGNORECASE else {ch}
    for op, av in items:
        if op is c.NEGATE:
            neg = True
        elif op is c.LITERAL:
            hit |= chr(av) in chars
        elif op is c.RANGE:
            hit |= any(av[0] <= ord(x) <= av[1] for x in chars)
        elif op is c.CATEGORY:
            hit |= _category_ok(av, ch)
    return hit != neg


def accepts(op: Any, av: Any, ch: str, flags: int) -> bool:
    """Whether the single-character item ``(op, av)`` accepts *ch*."""
    if op is c.LITERAL:
        return ch == chr(av) or bool(flags & re.IGNORECASE) and ch.lower() == chr(av).lower()
    if op is c.NOT_LITERAL:
        return ch != chr(av)
    if op is c.ANY:
        return ch != "\n" or bool(flags & re.DOTALL)
    if op is c.IN:
        return _in_set(av, ch, flags)
    if op is c.CATEGORY:
        return _category_ok(av, ch)
    return False


def minimal(items: Any, flags: int) -> str:
    """A short text matching the sequence *items* (best effort: lookarounds are ignored)."""
    out = []
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN, c.CATEGORY):
            out.append(next((ch for ch in POOL if accepts(op, av, ch, flags)), "a"))
        elif op is c.BRANCH:
            out.append(minimal(av[1][0], flags))
        elif op is c.SUBPATTERN:
            out.append(minimal(av[3], flags))
        elif op is c.ATOMIC_GROUP:
            out.append(minimal(av, flags))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            out.append(minimal(av[2], flags) * av[0])
    return "".join(out)


def runs(body: Any, flags: int) -> list[str]:
    """Units a repetition of *body* accepts: each single character of the pool, or one whole match."""
    items = list(body)
    if len(items) == 1 and items[0][0] in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN, c.CATEGORY):
        return [ch for ch in POOL if accepts(items[0][0], items[0][1], ch, flags)]
    whole = minimal(items, flags)
    return [whole] if whole else []


def _walk(items: Any, prefix: str, flags: int) -> Iterator[tuple[str, str]]:
    items = list(items)
    for i, (op, av) in enumerate(items):
        here = prefix + minimal(items[:i], flags)
        if op is c.BRANCH:
            for branch in av[1]:
                yield from _walk(branch, here, flags)
        elif op is c.SUBPATTERN:
            yield from _walk(av[3], here, flags)
        elif op is c.ATOMIC_GROUP:
            yield from _walk(av, here, flags)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            yield from _walk(av[1], here, flags)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            for unit in runs(av[2], flags):
                yield here, unit
            yield from _walk(av[2], here, flags)


def adversarial_inputs(pattern: re.Pattern[str], length: int = 50_000) -> list[str]:
    """Texts of about *length* characters built against *pattern* (see the module docstring)."""
    items = p.parse(pattern.pattern, pattern.flags)
    seen: set[str] = set()
    out = []
    for prefix, unit in _walk(items, "", pattern.flags):
        text = prefix + unit * max(1, length // len(unit)) + FAIL
        key = prefix + "\x01" + unit
        if key not in seen:
            seen.add(key)
            out.append(text)
            # The run alone, and the run after the prefix repeated: a search tries every start.
            out.append(unit * max(1, length // len(unit)) + FAIL)
    return list(dict.fromkeys(out))
