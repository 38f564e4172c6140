"""No regular expression of the extractor, the date rules, feed parsing or URL handling takes
time that grows faster than its input.

Each pattern is run on adversarial inputs built from the pattern itself (tests/support/redos.py):
for every quantifier, a prefix that reaches it, a long run of each kind of character it accepts,
then a character that fails the match. A backtracking pattern took 9 s on 5,000 characters of
such input (the date separator ``\\s*[/\\-.,،]?\\s*``); every pattern must now take well under a
second on 20,000.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Iterator

import pytest

from tests.support.redos import adversarial_inputs

MODULES = (
    "crawler.extract.rules", "crawler.extract.dates", "crawler.extract.metadata", "crawler.extract.body",
    "crawler.extract.pipeline", "crawler.extract.related", "crawler.extract.boilerplate",
    "crawler.extract.lines", "crawler.extract.html", "crawler.extract.template", "crawler.extract.paragraphs",
    "crawler.extract.cleaner", "crawler.text", "crawler.discovery.encoding", "crawler.sources",
    "crawler.discovery.feeds", "crawler.urls",
)
LENGTH = 20_000
BOUND_S = 1.0


def _patterns(obj: object, name: str) -> Iterator[tuple[str, re.Pattern[str]]]:
    if isinstance(obj, re.Pattern):
        if isinstance(obj.pattern, str):
            yield name, obj
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _patterns(item, f"{name}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _patterns(item, f"{name}[{key!r}]")


def all_patterns() -> list[tuple[str, re.Pattern[str]]]:
    out: dict[int, tuple[str, re.Pattern[str]]] = {}
    for module in MODULES:
        for attr, value in vars(importlib.import_module(module)).items():
            for name, pat in _patterns(value, f"{module}.{attr}"):
                out.setdefault(id(pat), (name, pat))
    return list(out.values())


PATTERNS = all_patterns()


def test_the_patterns_are_found() -> None:
    names = {name for name, _ in PATTERNS}
    assert "crawler.extract.dates._DAY_MONTH_YEAR" in names
    assert "crawler.extract.rules.TITLE_SEPARATORS" in names
    assert len(PATTERNS) > 80


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[n for n, _ in PATTERNS])
def test_pattern_is_linear_on_adversarial_input(name: str, pattern: re.Pattern[str]) -> None:
    worst, where = 0.0, ""
    for text in adversarial_inputs(pattern, LENGTH):
        start = time.perf_counter()
        pattern.search(text)
        took = time.perf_counter() - start
        if took > worst:
            worst, where = took, text[:40]
    assert worst < BOUND_S, f"{name} took {worst:.2f} s on {where!r}…"


def test_the_inputs_catch_the_old_date_separator() -> None:
    """The generator finds what made the old separator slow: a day, a long run of spaces, a failure."""
    from crawler.extract.dates import _DAY_MONTH_YEAR

    old = re.compile(_DAY_MONTH_YEAR.pattern.replace("*+", "*"), re.IGNORECASE)
    texts = [t for t in adversarial_inputs(old, 3000) if t.startswith("1 ")]
    assert texts and texts[0].strip(" 1\x00") == ""
    slow, fast = _timed(old, texts[0]), _timed(_DAY_MONTH_YEAR, texts[0])
    assert slow > 20 * fast


def _timed(pattern: re.Pattern[str], text: str) -> float:
    start = time.perf_counter()
    pattern.search(text)
    return time.perf_counter() - start


def test_blank_lines_begins_only_at_a_run_of_whitespace() -> None:
    """The lookbehind of _BLANK_LINES changes no replacement (random whitespace and letters), and the
    inputs catch what made the plain pattern slow: a long run of whitespace without a line break."""
    import random

    from crawler.extract.metadata import _BLANK_LINES

    plain = re.compile(r"\s*\n\s*")
    rnd = random.Random(5)
    for _ in range(50_000):
        text = "".join(rnd.choice(" \t\n\r\u00a0ab") for _ in range(rnd.randint(0, 20)))
        assert _BLANK_LINES.sub("\n", text) == plain.sub("\n", text), repr(text)
    run = "\t" * 10_000
    assert _timed(plain, run) > 20 * _timed(_BLANK_LINES, run)
