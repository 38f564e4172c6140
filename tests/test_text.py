"""Arabic normalisation: one table per level (crawler/text.py)."""

import pytest

from crawler.text import arabic_ratio, clean_paragraphs, clean_text, is_arabic, normalize_for_matching, word_tokens


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
