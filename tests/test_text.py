"""Arabic normalisation: one table per level (crawler/text.py)."""

import json
import random
import re
from itertools import islice

import pytest

from crawler.text import (
    _clean_text, arabic_ratio, clean_paragraphs, clean_text, is_arabic, matching_codepoints, matching_codepoints_many,
    normalize_for_matching, word_tokens,
)
from tests.dedup_eval.evalset import CORPUS
from tests.support import corpora


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("", ""),
        ("  مرحبا   بكم  ", "مرحبا بكم"),
        ("مر\u200fحبا\u200e", "مرحبا"),  # bidi marks
        ("كلمة\u200bأخرى", "كلمةأخرى"),  # zero-width space
        ("\ufeffنص", "نص"),  # BOM
        ("سطر\u00a0واحد", "سطر واحد"),  # no-break space
        ("أول\r\n\r\n\r\nثاني", "أول\nثاني"),
        ("\ufefb", "\u0644\u0627"),  # presentation form lam-alef -> two letters
        ("كتــاب", "كتــاب"),  # tatweel is what was published: kept
        ("مُحَمَّد", "مُحَمَّد"),  # diacritics kept
        ("٢٠٢٥", "٢٠٢٥"),  # Eastern digits kept
        ("a\x00b\x07c", "a b c"),
    ],
)
def test_clean_text_keeps_what_was_published(raw: str, stored: str) -> None:
    assert clean_text(raw) == stored


@pytest.mark.parametrize(
    ("raw", "matching"),
    [
        ("مُحَمَّد", "محمد"),
        ("كتــــاب", "كتاب"),
        ("أحمد إبراهيم آمال", "احمد ابراهيم امال"),
        ("مستشفى", "مستشفي"),
        ("مدرسة", "مدرسه"),
        ("مسؤول", "مسوول"),
        ("عام ٢٠٢٥ و۱۴", "عام 2025 و14"),
        ("«بوتين»: لا!", "بوتين لا"),
        ("Hello، World؟", "hello world"),
        ("\ufefb", "لا"),
    ],
)
def test_normalize_for_matching_folds(raw: str, matching: str) -> None:
    assert normalize_for_matching(raw) == matching


def test_matching_form_is_idempotent() -> None:
    text = "الرئيسُ السوريّ في موسكو.. محادثات مع «بوتين» ٢٠٢٥"
    once = normalize_for_matching(text)
    assert normalize_for_matching(once) == once


def test_clean_paragraphs_drops_empty_and_joins_lines() -> None:
    assert clean_paragraphs(["  أ  ", "", "ب\nج"]) == ["أ", "ب ج"]


def test_word_tokens() -> None:
    assert word_tokens("قالَ: الوزيرُ") == ["قال", "الوزير"]


def test_arabic_ratio() -> None:
    assert arabic_ratio("") == 0.0
    assert arabic_ratio("hello") == 0.0
    assert arabic_ratio("مرحبا") == 1.0
    assert is_arabic("مرحبا بكم في الموقع hello")
    assert not is_arabic("Breaking news from the region مرحبا")


# -- the table-driven matching form ---------------------------------------------
MATCHING_EDGE_CASES = [
    "", " ", "  \n\t ", "كتــاب", "مُحَمَّد", "٢٠٢٥ و۲۰", "إلى أين؟", "ﻻ ﷲ \ufefb",
    "كلمة\u200cأخرى", "مر\u200fحبا", "ΣΑΣ σας", "İstanbul", "x 𝟏𝟐 y", "emoji 😀 here", "ab\ud800cd",
    "snake_case and CamelCase", "a\x00b\x1fc", "«اقتباس» — (قوسان) [مربع]", "ℌ ﬁ ½ ²",
]


@pytest.mark.parametrize("raw", MATCHING_EDGE_CASES)
def test_matching_codepoints_gives_normalize_for_matching(raw: str) -> None:
    norm, cps = matching_codepoints(raw)
    assert norm == normalize_for_matching(raw)
    assert "".join(map(chr, cps.tolist())) == norm


def test_matching_codepoints_on_random_text() -> None:
    """Every BMP block the table covers, mixed with spaces, marks and invisible characters."""
    rnd = random.Random(7)
    pool = [chr(c) for c in range(0x20, 0x3400)] + list(" \n\t\u200c\u200f\u0640\u064b\u0651\u0660\u06f5") * 40
    for _ in range(20_000):
        raw = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 14)))
        assert matching_codepoints(raw)[0] == normalize_for_matching(raw), repr(raw)


def test_matching_codepoints_many_is_each_alone() -> None:
    """Texts mapped together (joined) give each text's own form and code points: edge cases, spaces and
    marks at the ends, invisible marks, context-dependent case, surrogate pairs, in random groups."""
    rnd = random.Random(8)
    pool = [chr(c) for c in range(0x20, 0x3400)] + list(" \n\t\u200c\u200f\u0640\u064b\u0660Σςİ\ufefb") * 40
    pool += ["𝟏", "😀", "\ud800", "\u00ad", "\ufeff"] * 10
    texts = MATCHING_EDGE_CASES + ["".join(rnd.choice(pool) for _ in range(rnd.randint(0, 20))) for _ in range(5000)]
    for start in range(0, len(texts), 50):
        group = texts[start : start + rnd.randint(1, 60)]
        for raw, (norm, cps) in zip(group, matching_codepoints_many(group), strict=True):
            one, one_cps = matching_codepoints(raw)
            assert norm == one == normalize_for_matching(raw), repr(raw)
            assert cps.tolist() == one_cps.tolist(), repr(raw)
    assert matching_codepoints_many([]) == []


@pytest.mark.skipif(not CORPUS.exists(), reason=f"{CORPUS} is absent")
def test_matching_codepoints_on_the_corpus() -> None:
    with CORPUS.open(encoding="utf-8") as fh:
        for line in islice(fh, 2000):
            rec = json.loads(line)
            for raw in (rec["title"], "\n".join(rec["paragraphs"])):
                assert matching_codepoints(raw)[0] == normalize_for_matching(raw)


# -- clean_text's fast path: the same string as the step-by-step path ----------------
@pytest.mark.skipif(not corpora.CORPORA, reason="the shared corpora are absent")
def test_clean_text_fast_path_on_the_corpus() -> None:
    for raw in corpora.lines():
        assert clean_text(raw) == _clean_text(raw), repr(raw)


def test_clean_text_fast_path_on_every_bmp_character() -> None:
    """Every BMP character (and every 17th beyond) alone, and between letters, spaces and marks."""
    for cp in [*range(0x10000), *range(0x10000, 0x110000, 17)]:
        ch = chr(cp)
        for raw in (ch, f" أ{ch}\u00a0 {ch}{ch}\u0651\u064e"):
            assert clean_text(raw) == _clean_text(raw), repr(raw)


def test_clean_text_fast_path_on_random_text() -> None:
    """Arabic, marks out of canonical order, presentation forms NFKC keeps or folds, every kind of space."""
    rnd = random.Random(11)
    pool = (
        [chr(c) for c in range(0x20, 0x700)] + [chr(c) for c in range(0xFB50, 0xFF00)]
        + list("\u00a0\u00a0  \t\n\r\u2009\u3000\u200b\u200f\u061c\u00ad\x00\x85\u2028\u0651\u064e\u0654\u0655")
        + ["\ud800", "\U0001d7cf", "\u0301", "e", "\u0130"] + list("كتاب الرئيس") * 20
    )
    for _ in range(50_000):
        raw = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 16)))
        assert clean_text(raw) == _clean_text(raw), repr(raw)


def test_arabic_ratio_counts_the_letter_ranges() -> None:
    arabic = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
    latin = re.compile("[A-Za-z\u00c0-\u024f]")
    rnd = random.Random(5)
    for _ in range(2000):
        raw = "".join(chr(rnd.choice([rnd.randrange(0x20, 0x700), rnd.randrange(0x700, 0x11000)])) for _ in range(30))
        a, b = len(arabic.findall(raw)), len(latin.findall(raw))
        assert arabic_ratio(raw) == (a / (a + b) if a + b else 0.0), repr(raw)


@pytest.mark.skipif(not corpora.CORPORA, reason="the shared corpora are absent")
def test_arabic_ratio_counts_the_letter_ranges_on_the_corpus() -> None:
    arabic = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
    latin = re.compile("[A-Za-z\u00c0-\u024f]")
    for rec in islice(corpora.records(), 0, None, 4):  # every 4th record: the counts, the long way
        text = corpora.text_of(rec)
        a, b = len(arabic.findall(text)), len(latin.findall(text))
        assert arabic_ratio(text) == (a / (a + b) if a + b else 0.0)
