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
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = [
    "arabic_ratio",
    "clean_text",
    "clean_paragraphs",
    "is_arabic",
    "is_plain_nfkc",
    "lam_mim_nun",
    "load_tables",
    "matching_codepoints",
    "matching_codepoints_many",
    "normalize_for_matching",
    "strip_unstorable",
    "to_western_digits",
    "word_tokens",
]

# Character classes, each written once: the patterns below and strip_unstorable are made of them.
# Invisible format characters that only get in the way of reading and matching:
# zero-width space/joiners, word joiner, BOM, soft hyphen, and all bidi controls
# (LRM, RLM, ALM, embeddings, overrides, isolates).
_FORMAT_CHARS = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# Lone surrogates: what a JSON "\ud800" escape decodes to; no character, and refused by every
# UTF-8 encoder (so by the database).
_SURROGATES = "\ud800-\udfff"
# C0/C1 controls except tab and newline (NUL among them: PostgreSQL refuses it in text).
_CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_PRESENTATION_CHARS = "\ufb50-\ufdff\ufe70-\ufefe"

_INVISIBLE = re.compile(f"[{_FORMAT_CHARS}{_SURROGATES}]")
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
_UNSTORABLE = re.compile(f"[{_CONTROL_CHARS}{_SURROGATES}]")
# Arabic presentation forms A and B: legacy glyph code points that some CMSs
# and PDF converters still emit; NFKC folds them to ordinary letters.
_PRESENTATION_FORMS = re.compile(f"[{_PRESENTATION_CHARS}]+")
# Any whitespace but newline, where it is not already a single space (the
# same result as replacing every run with one space, far fewer replacements).
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]{2,}|[^\S\n ]")
_MANY_NEWLINES = re.compile(r"\n{2,}")
# Guards (speed only): text without these needs none of the substitutions above.
_ODD = re.compile(f"[{_PRESENTATION_CHARS}{_FORMAT_CHARS}{_SURROGATES}{_CONTROL_CHARS}]")
_EXOTIC_SPACE = re.compile(r"[^\S\n ]")  # whitespace other than a space or a newline

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
# The same folds as chained str.replace calls: many times faster than
# str.translate on non-ASCII text, with identical output (no replacement
# produces a character that another one replaces).
_LETTER_FOLD_PAIRS = tuple((chr(k), v or "") for k, v in _LETTER_FOLD.items())
_DIGIT_PAIRS = tuple((chr(k), v) for k, v in _DIGITS.items())
_EASTERN_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9]")
# Anything that is not a letter, digit or mark becomes a space when matching. The
# same words as substituting ``[\W_]+`` (checked on every code point), but whitespace
# is left to str.split: a few matches per paragraph instead of one per word gap.
_NON_WORD_NON_SPACE = re.compile(r"[^\w\s]|_")


def _fold_presentation(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group(0))


def clean_text(text: str) -> str:
    """Return *text* in the stored form: as published, minus invisible marks.

    Paragraph breaks (single newlines) are kept; runs of spaces collapse to one;
    non-breaking and other exotic spaces become ordinary spaces.
    """
    if not text:
        return ""
    # Fast path (most lines of a record), the same string as _clean_text: a printable text has no
    # newline, control, invisible mark (all format characters) or exotic space, and an NFKC one is
    # NFC with no presentation form to fold (those that NFKC leaves are left by the fold too). A
    # no-break space is the one exotic space common in news text: NFC treats it as a space, and
    # the space rule turns each run holding either into one space.
    plain = text.replace("\u00a0", " ") if "\u00a0" in text else text
    if is_plain_nfkc(plain):
        return (_HORIZONTAL_SPACE.sub(" ", plain) if "  " in plain else plain).strip()
    return _clean_text(text)


def is_plain_nfkc(text: str) -> bool:
    """Printable and NFKC: no control, format or invisible character, no exotic space, nothing
    NFKC would change. :func:`clean_text` leaves such text as it is (but runs of spaces), and its
    matching form neither adds nor removes a lam, mim or nun (see :func:`lam_mim_nun`)."""
    return text.isprintable() and unicodedata.is_normalized("NFKC", text)


def strip_unstorable(value: str) -> str:
    """*value* without controls (but tab and newline) and lone surrogates: what no database stores
    as text (``import`` cleans every short field of a record so; :func:`clean_text` does more)."""
    return _UNSTORABLE.sub("", value)


def lam_mim_nun(text: str, cap: int | None = None) -> int:
    """How many of the three commonest Arabic letters *text* holds (or some number over *cap*).

    No step of the matching form removes one of them or turns it into another letter (checked
    against every character beside each), so a line holding more of them than a headline's
    matching form is not that headline, and need not be normalised to find that out. A prose line
    has more lams alone than a headline has of all three: the other two are then not counted.
    """
    count = text.count("ل")
    if cap is not None and count > cap:
        return count
    return count + text.count("م") + text.count("ن")


def _clean_text(text: str) -> str:
    """:func:`clean_text` step by step (any text)."""
    text = unicodedata.normalize("NFC", text)
    if _ODD.search(text):  # one scan instead of three when there is nothing to fix
        text = _PRESENTATION_FORMS.sub(_fold_presentation, text)
        text = _INVISIBLE.sub("", text)
        text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    if "  " in text or _EXOTIC_SPACE.search(text):
        text = _HORIZONTAL_SPACE.sub(" ", text)
    lines = (line.strip() for line in text.split("\n"))
    text = "\n".join(lines)
    if "\n\n" in text:
        text = _MANY_NEWLINES.sub("\n", text)
    return text.strip()


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
    # clean_text only matters here for the invisible marks it deletes (which
    # join words); everything else it does is implied by NFKC and by turning
    # non-word characters into single spaces, so text without them skips it.
    if _INVISIBLE.search(text):
        text = clean_text(text)
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text)
    for old, new in _LETTER_FOLD_PAIRS:
        text = text.replace(old, new)
    if _EASTERN_DIGIT.search(text):
        for old, new in _DIGIT_PAIRS:
            text = text.replace(old, new)
    return " ".join(_NON_WORD_NON_SPACE.sub(" ", text.lower()).split())


# The matching form as a per-character table. Every step of normalize_for_matching
# after NFKC (diacritics, folds, digits, lower-casing, punctuation to spaces) maps
# one character to at most one character, so one lookup table over the Basic
# Multilingual Plane gives the same string, at numpy speed, without a Python str
# per word. Characters whose mapping needs context (final sigma) or yields two
# characters (dotted capital I) are marked and sent to the exact path, and so are
# invisible marks (normalize_for_matching cleans such text first). The marks are
# U+FFFD and the two noncharacters U+FFFE/U+FFFF, which themselves map to a space.
_INVISIBLE_MARK, _CONTEXT, _DROP = 0xFFFD, 0xFFFE, 0xFFFF


@lru_cache(maxsize=1)
def _matching_table() -> tuple[np.ndarray, np.ndarray]:
    """(code point -> matching code point or a mark: _DROP, _CONTEXT, _INVISIBLE_MARK; code point ->
    str.isdigit), BMP only."""
    table = np.empty(0x10000, dtype=np.uint16)
    digit = np.zeros(0x10000, dtype=bool)
    folds = dict(_LETTER_FOLD)
    for cp in range(0x10000):
        ch = chr(cp)
        digit[cp] = ch.isdigit()
        if _INVISIBLE.match(ch):
            table[cp] = _INVISIBLE_MARK
            continue
        if _DIACRITICS.match(ch):
            table[cp] = _DROP
            continue
        out = folds.get(cp, ch)
        if out is None:  # tatweel
            table[cp] = _DROP
            continue
        low = out.translate(_DIGITS).lower()
        if len(low) != 1 or cp == 0x03A3:
            table[cp] = _CONTEXT
        elif low.isspace() or _NON_WORD_NON_SPACE.match(low):
            table[cp] = 0x20
        else:
            table[cp] = ord(low)
    return table, digit


def matching_codepoints(text: str) -> tuple[str, np.ndarray]:
    """:func:`normalize_for_matching` of *text* and its code points (single spaces).

    The same string as :func:`normalize_for_matching` (checked on the corpus
    and on random text in the tests), computed with :func:`_matching_table`;
    text with invisible marks, characters outside the BMP or context-dependent
    case goes through :func:`normalize_for_matching` itself. The code points
    are a uint16 array on the fast path, uint32 otherwise.
    """
    form = text
    if form:
        if not unicodedata.is_normalized("NFKC", form):
            if _INVISIBLE.search(form):  # the table sees the text after NFKC: look before it
                return _matching_exact(text)
            form = unicodedata.normalize("NFKC", form)
        raw = form.encode("utf-16-le", "surrogatepass")
        if len(raw) == 2 * len(form):  # no surrogate pairs: every character is in the BMP
            mapped = _matching_table()[0].take(np.frombuffer(raw, dtype=np.uint16))
            odd = mapped >= _INVISIBLE_MARK
            if odd.any():
                if (odd & (mapped != _DROP)).any():  # invisible marks or context-dependent case
                    return _matching_exact(text)
                mapped = mapped[~odd]
            word = mapped != 0x20
            keep = word.copy()  # a space survives only after a non-space: runs become one
            keep[1:] |= word[:-1]
            out = mapped[keep]
            if out.size and out[-1] == 0x20:
                out = out[:-1]
            return out.tobytes().decode("utf-16-le"), out
    return _matching_exact(text)


def _matching_exact(text: str) -> tuple[str, np.ndarray]:
    norm = normalize_for_matching(text)
    return norm, np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)


def matching_codepoints_many(texts: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """:func:`matching_codepoints` of each of *texts* (the same strings and code points).

    The texts are joined by a line break (a space in the matching form, which no
    text's form carries over into the next) and mapped with one pass of numpy
    operations; each text's form is then a slice of the whole.
    """
    out: list[tuple[str, np.ndarray] | None] = [None] * len(texts)
    fast: list[int] = []
    forms: list[str] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        if not unicodedata.is_normalized("NFKC", text):
            if _INVISIBLE.search(text):  # the table sees the text after NFKC: look before it
                continue
            text = unicodedata.normalize("NFKC", text)
        fast.append(i)
        forms.append(text)
    joined = "\n".join(forms)
    raw = joined.encode("utf-16-le", "surrogatepass")
    if len(raw) != 2 * len(joined):  # a surrogate pair: such texts take the exact path
        keep = [k for k, form in enumerate(forms) if len(form.encode("utf-16-le", "surrogatepass")) == 2 * len(form)]
        fast, forms = [fast[k] for k in keep], [forms[k] for k in keep]
        joined = "\n".join(forms)
        raw = joined.encode("utf-16-le", "surrogatepass")
    if fast:
        sizes = np.fromiter(map(len, forms), dtype=np.intp, count=len(forms))
        starts = np.zeros(len(forms), dtype=np.intp)
        np.cumsum(sizes[:-1] + 1, out=starts[1:])
        bounds = np.stack((starts, starts + sizes), axis=1).ravel()  # where each text begins and ends
        mapped = _matching_table()[0].take(np.frombuffer(raw, dtype=np.uint16))
        odd = mapped >= _INVISIBLE_MARK
        if odd.any():
            special = np.flatnonzero(odd & (mapped != _DROP))
            if special.size:  # invisible marks or context-dependent case: those texts take the exact path
                exact = set(np.searchsorted(starts, special, side="right").tolist())
                fast = [f if k + 1 not in exact else -1 for k, f in enumerate(fast)]
            bounds -= np.searchsorted(np.flatnonzero(odd), bounds)  # the places after the drops
            mapped = mapped[~odd]
        word = mapped != 0x20
        keep = word.copy()  # a space survives only after a non-space: runs become one (a text's first
        keep[1:] |= word[:-1]  # character follows the joining space, so its leading spaces go)
        forms_out = mapped[keep]
        text_out = forms_out.tobytes().decode("utf-16-le")
        places = bounds - np.searchsorted(np.flatnonzero(~keep), bounds)  # the places after the cuts
        ends = places[1::2]
        if forms_out.size:  # one trailing space (what is left of a run) goes
            ends = ends - ((forms_out[np.maximum(ends - 1, 0)] == 0x20) & (ends > places[::2]))
        for i, a, b in zip(fast, places[::2].tolist(), ends.tolist()):
            if i >= 0:
                out[i] = (text_out[a:b], forms_out[a:b])
    for i, text in enumerate(texts):
        if out[i] is None:
            out[i] = _matching_exact(text)
    return out  # type: ignore[return-value]


def load_tables() -> None:
    """Build the lookup tables of :func:`matching_codepoints` now (about 50 ms, once per process).

    Called before worker processes are forked, so that they share one copy.
    """
    _matching_table()


def is_digit_table() -> np.ndarray:
    """Boolean ``str.isdigit`` of every BMP code point (for :func:`crawler.dedup.minhash.number_contexts`)."""
    return _matching_table()[1]


def word_tokens(text: str) -> list[str]:
    """Words of the matching form of *text*."""
    return normalize_for_matching(text).split()


@lru_cache(maxsize=1)
def _letter_weights() -> np.ndarray:
    """UTF-16 code unit -> 1 (Arabic letter), 2**32 (Latin letter), 0 (anything else)."""
    table = np.zeros(0x10000, dtype=np.uint64)
    for lo, hi in ((0x0621, 0x064A), (0x0671, 0x06D3), (0x06FA, 0x06FF)):  # Arabic letters
        table[lo : hi + 1] = 1
    for lo, hi in ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x024F)):  # Latin letters (basic, Latin-1, extended)
        table[lo : hi + 1] = 1 << 32
    return table


def arabic_ratio(text: str) -> float:
    """Share of Arabic letters among the Latin and Arabic letters of *text*."""
    # Counted with a table over UTF-16 code units (the letters counted are all in the
    # BMP; surrogates count as neither), without building a list of matches: one sum gives
    # both counts, the Latin one in the high 32 bits (a text has fewer than 2**32 letters).
    units = np.frombuffer((text or "").encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    both = int(_letter_weights().take(units).sum())
    arabic, latin = both & 0xFFFFFFFF, both >> 32
    if not arabic + latin:
        return 0.0
    return arabic / (arabic + latin)


def is_arabic(text: str, min_ratio: float = 0.5) -> bool:
    """True when at least *min_ratio* of the letters of *text* are Arabic."""
    return arabic_ratio(text) >= min_ratio
