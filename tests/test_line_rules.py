"""LineRuleSet: the same answer as searching every pattern, on hand-picked and random lines."""

from __future__ import annotations

import random
import re
import re._parser as sre_parse

import pytest

from crawler.extract.line_rules import LineRuleSet, _required

PATTERNS = [
    re.compile(r"^\W*(?:المصدر|source)\s*[:/]", re.I),
    re.compile(r"^\W*(?:شارك|share)\b.{0,20}$", re.I),
    re.compile(r"جميع الحقوق محفوظة|all rights reserved|^\W*©", re.I),
    re.compile(r"(?:تعبر|يعبر)\s+عن\s+(?:رأي|موقف)", re.I),
    re.compile(r"(?:ab)+c?d", re.I),
    re.compile(r"x(?:yz)?w"),
    re.compile(r"(?i)global flags"),
    re.compile(r"^line$", re.M),
]


def test_required_literals_are_read_off_the_pattern() -> None:
    def required(p: str) -> frozenset[str] | None:
        return _required(sre_parse.parse(p, re.I))

    assert required("your browser") == {"your browser"}
    assert required("a|bc") == {"a", "bc"}
    assert required("x(?:yz)?w") == {"x"}  # an optional group is not required
    assert required(r"\w+") is None  # nothing literal: always searched
    assert required("abc|\\d+") is None  # one branch without a literal: no prefilter


@pytest.mark.parametrize(
    "line",
    ["المصدر: واس", "  Source / AP", "شارك الخبر", "Share this", "ALL RIGHTS RESERVED", "All Rıghts Reſerved",
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
              "\n", "global flags", "كلمة"]
    for _ in range(5000):
        line = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
        assert rules.matches(line) == any(p.search(line) for p in PATTERNS), repr(line)
