"""Arabic text normalisation: the one place where Arabic text is cleaned or folded.

Two levels, never mixed:

* :func:`clean_text` -- the *stored* form. It keeps what the publisher wrote
  (diacritics, tatweel, hamza forms, Eastern digits) and removes only what is
  invisible or broken: control characters, zero-width and bidi marks, Arabic
  presentation-form glyphs (folded to their letters), untidy whitespace.
* :func:`normalize_for_matching` -- the *matching* form, used only to compare
  and hash (dedup shingles, headline keys, boilerplate fingerprints). It strips
  diacritics and tatweel, unifies alef / ya / ta marbuta / hamza seats, maps
  Eastern Arabic digits to Western ones and drops punctuation. It is never
  written back to the corpus.

All functions are pure; regexes are compiled once at import.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "arabic_ratio",
    "clean_text",
    "clean_paragraphs",
    "is_arabic",
    "normalize_for_matching",
    "to_western_digits",
    "word_tokens",
]

# Invisible format characters that only get in the way of reading and matching:
# zero-width space/joiners, word joiner, BOM, soft hyphen, and all bidi controls
# (LRM, RLM, ALM, embeddings, overrides, isolates).
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# C0/C1 controls except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Arabic presentation forms A and B: legacy glyph code points that some CMSs
# and PDF converters still emit; NFKC folds them to ordinary letters.
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")  # any whitespace but newline
_MANY_NEWLINES = re.compile(r"\n{2,}")

# Matching level.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LETTER_FOLD = str.maketrans(
    {
        "\u0622": "\u0627",  # آ -> ا
        "\u0623": "\u0627",  # أ -> ا
        "\u0625": "\u0627",  # إ -> ا
        "\u0671": "\u0627",  # ٱ -> ا
        "\u0649": "\u064a",  # ى -> ي
        "\u06cc": "\u064a",  # Persian ye -> ي
        "\u0629": "\u0647",  # ة -> ه
        "\u0624": "\u0648",  # ؤ -> و
        "\u0626": "\u064a",  # ئ -> ي
        "\u06a9": "\u0643",  # Persian kaf -> ك
        "\u0640": None,  # tatweel
    }
)
_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Extended (Persian/Urdu)
    }
)
# Anything that is not a letter, digit or mark becomes a space when matching.
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_OR_ARABIC_LETTER = re.compile("[A-Za-z\u00c0-\u024f\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")


def _fold_presentation(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group(0))


def clean_text(text: str) -> str:
    """Return *text* in the stored form: as published, minus invisible marks.

    Paragraph breaks (single newlines) are kept; runs of spaces collapse to one;
    non-breaking and other exotic spaces become ordinary spaces.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _PRESENTATION_FORMS.sub(_fold_presentation, text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _HORIZONTAL_SPACE.sub(" ", text)
    lines = (line.strip() for line in text.split("\n"))
    text = "\n".join(lines)
    return _MANY_NEWLINES.sub("\n", text).strip()


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Clean each paragraph with :func:`clean_text` and drop the empty ones."""
    out = []
    for para in paragraphs:
        cleaned = clean_text(para).replace("\n", " ")
        if cleaned:
            out.append(cleaned)
    return out


def to_western_digits(text: str) -> str:
    """Map Arabic-Indic and extended Arabic-Indic digits to 0-9."""
    return text.translate(_DIGITS)


def normalize_for_matching(text: str) -> str:
    """Return the folded form of *text* used only for comparing and hashing.

    Steps: :func:`clean_text`, NFKC, drop diacritics and tatweel, unify alef /
    ya / ta marbuta / hamza seats, Western digits, lower-case Latin, punctuation
    to spaces, single spaces.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = _DIACRITICS.sub("", text)
    text = text.translate(_LETTER_FOLD).translate(_DIGITS).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def word_tokens(text: str) -> list[str]:
    """Words of the matching form of *text*."""
    return normalize_for_matching(text).split()


def arabic_ratio(text: str) -> float:
    """Share of Arabic letters among the Latin and Arabic letters of *text*."""
    letters = _LATIN_OR_ARABIC_LETTER.findall(text or "")
    if not letters:
        return 0.0
    return len(_ARABIC_LETTER.findall(text)) / len(letters)


def is_arabic(text: str, min_ratio: float = 0.5) -> bool:
    """True when at least *min_ratio* of the letters of *text* are Arabic."""
    return arabic_ratio(text) >= min_ratio
