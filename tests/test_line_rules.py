"""LineRuleSet: the same answer as searching every pattern, on hand-picked, random and corpus lines."""

from __future__ import annotations

import _sre
import random
import re
import re._casefix as _casefix
import re._parser as sre_parse

import pytest

from crawler.extract import rules
from crawler.extract.line_rules import LineRuleSet, _caseless, _required
from tests.support import corpora

PATTERNS = [
    re.compile(r"^\W*(?:المصدر|source)\s*[:/]", re.I),
    re.compile(r"^\W*(?:شارك|share)\b.{0,20}$", re.I),
    re.compile(r"جميع الحقوق محفوظة|all rights reserved|^\W*©", re.I),
    re.compile(r"(?:تعبر|يعبر)\s+عن\s+(?:رأي|موقف)", re.I),
    re.compile(r"(?:ab)+c?d", re.I),
    re.compile(r"x(?:yz)?w"),
    re.compile(r"(?i)global flags"),
    re.compile(r"^line$", re.M),
    re.compile("ب\u0307ت|Ab\u0307c", re.I),  # a mark the fold drops, in a literal with and without case
]


def test_required_literals_are_read_off_the_pattern() -> None:
    def required(p: str) -> frozenset[str] | None:
        return _required(sre_parse.parse(p, re.I))

    assert required("your browser") == {"your browser"}
    assert required("a|bc") == {"a", "bc"}
    assert required("x(?:yz)?w") == {"x"}  # an optional group is not required
    assert required(r"\w+") is None  # nothing literal: always searched
    assert required("abc|\\d+") is None  # one branch without a literal: no prefilter
    assert required("Your Browser") == {"Your Browser"}  # as written: LineRuleSet folds what has case
    # Fewer literals, each long enough to be rare, over more or longer ones; a short one only if nothing else.
    assert required("(?:مقال|مقالات|مواد) (?:تعبر|يعبر)") == {"تعبر", "يعبر"}
    assert required("ab(?:cdef|ghij|klmn)") == {"cdef", "ghij", "klmn"}
    assert required("ab(?:c|d)") == {"ab"}


def test_caseless_literals_are_those_ignorecase_matches_only_with_themselves() -> None:
    for lit in ("المصدر", "©", "2025 :", "ب\u0307ت"):
        assert _caseless(lit)
    for lit in ("source", "S", "ſ", "ı", "İ", "\u212a", "Σ"):
        assert not _caseless(lit)
    # What the regex compiler goes by: a character that is not "cased" (simple case mappings) and has
    # no extra case-insensitive equivalent is compiled as a plain literal, matched by itself only.
    for cp in range(0x110000):
        if _caseless(chr(cp)):
            assert not _sre.unicode_iscased(cp) and cp not in _casefix._EXTRA_CASES, hex(cp)


@pytest.mark.parametrize(
    "line",
    ["المصدر: واس", "  Source / AP", "ب\u0307ت", "بت", "AB\u0307C", "abc", "AİC", "شارك الخبر", "Share this", "ALL RIGHTS RESERVED", "All Rıghts Reſerved",
     "© 2025", "هذا يعبر عن رأي الكاتب", "ABABD", "xw", "xyzw", "GLOBAL FLAGS", "global flags", "a\nline\nb",
     "نص عادي لا شيء فيه", ""],
)
def test_same_answer_as_searching_every_pattern(line: str) -> None:
    assert LineRuleSet(PATTERNS).matches(line) == any(p.search(line) for p in PATTERNS)


def test_same_answer_on_random_lines() -> None:
    rules = LineRuleSet(PATTERNS)
    rnd = random.Random(3)
    pieces = ["المصدر", "source", ":", " ", "شارك", "share", "©", "all rights reserved", "ALL RİGHTS RESERVED",
              "جميع الحقوق محفوظة", "تعبر", "عن", "رأي", "ab", "AB", "c", "d", "x", "yz", "w", "ı", "ſ", "line",
              "\n", "global flags", "كلمة", "ب", "\u0307", "ت", "A", "İ"]
    for _ in range(5000):
        line = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
        assert rules.matches(line) == any(p.search(line) for p in PATTERNS), repr(line)


@pytest.mark.skipif(not corpora.CORPORA, reason="the shared corpora are absent")
def test_same_answer_on_every_corpus_line() -> None:
    """The boilerplate line rules, on every title, paragraph and line of the shared corpora."""
    line_rules = LineRuleSet(rules.BOILERPLATE_LINES)
    for line in corpora.lines():
        assert line_rules.matches(line) == any(p.search(line) for p in rules.BOILERPLATE_LINES), repr(line)
