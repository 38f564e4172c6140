"""MinHash signatures, LSH band keys and exact verification for article dedup.

The pipeline (``pipelines/dedup.py``) only adapts the two small classes here:

* :class:`DedupConfig` -- the parameters that make signatures comparable
  (shingling, permutations, seed, bands) plus the merge threshold, validated
  in ``__post_init__``; its :attr:`~DedupConfig.fingerprint` is stored with
  every signature and in the ``dedup_config`` table, so a change of
  configuration is detected instead of silently mixing incomparable sketches.
* :class:`MinHasher` -- turns texts into shingle sets (numpy arrays of 32-bit
  hashes of the :func:`crawler.text.normalize_for_matching` form; words are
  hashed from their code points in bulk by :func:`word_hashes`, with no Python
  string per word) and computes
  MinHash signatures for many documents at once with numpy. The values are
  exactly those of ``datasketch.MinHash`` (scheme ``affine32``) fed with the
  same shingle hashes (see :meth:`MinHasher.to_minhash` and the tests), but
  about 50 times faster than ``MinHash.update`` per shingle.

Candidates found through the band keys are *verified* with the exact Jaccard
similarity of the two shingle sets (:func:`jaccard`) before anything merges.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from crawler.text import is_digit_table, matching_codepoints, matching_codepoints_many, normalize_for_matching

if TYPE_CHECKING:
    from datasketch import LeanMinHash
    from scrapy.settings import BaseSettings

__all__ = [
    "DedupConfig", "MinHasher", "SignatureMismatch", "content_hash", "jaccard", "number_conflicts",
    "ngram_hashes", "ngram_hashes_many", "number_contexts", "sorted_unique", "to_signed64", "word_hashes",
    "word_spans",
]

_U32 = np.uint32
_MIX_MUL = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier for n-gram rolling hash
_FMIX32 = (_U32(16), _U32(0x85EBCA6B), _U32(13), _U32(0xC2B2AE35), _U32(16))
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(33), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33))
_SIG_MAGIC = b"MH1"
# Permutations x shingles per numpy block (4 MB of uint32): a block that stays in cache between the
# multiply, the add and the minimum costs half of one four times larger (measured on articles).
_MAX_CELLS = 1 << 20


class SignatureMismatch(ValueError):
    """A stored signature was made with another configuration."""


def _fmix(hv: np.ndarray, consts: tuple[Any, ...]) -> np.ndarray:
    s1, m1, s2, m2, s3 = consts
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    return hv ^ (hv >> s3)


def to_signed64(value: int) -> int:
    """Map an unsigned 64-bit int to the signed range of a SQL BIGINT."""
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True)
class DedupConfig:
    """Parameters of article near-duplicate detection.

    Args:
        shingle: ``"word"`` (word n-grams) or ``"char"`` (character n-grams),
            both over the matching form of the text.
        shingle_size: n of the n-grams.
        num_perm: number of MinHash permutations (signature length).
        bands: LSH bands; ``bands * rows`` must not exceed ``num_perm``.
        rows: rows (signature values) per band.
        seed: seed of the permutations; signatures compare only with equal seeds.
        threshold: exact Jaccard similarity of the shingle sets needed to merge
            a candidate (verification; not part of the fingerprint).
        min_shingles: documents with fewer shingles are never near-merged
            (exact-hash merges still apply).

    Raises:
        ValueError: a parameter is out of range.
    """

    shingle: str = "word"
    shingle_size: int = 3
    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    seed: int = 1
    threshold: float = 0.4
    min_shingles: int = 5

    def __post_init__(self) -> None:
        if self.shingle not in ("word", "char"):
            raise ValueError(f"shingle must be 'word' or 'char', not {self.shingle!r}")
        if not 1 <= self.shingle_size <= 16:
            raise ValueError(f"shingle_size must be in 1..16, not {self.shingle_size}")
        if not 2 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be in 2..1024, not {self.num_perm}")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows ({self.bands}*{self.rows}) must be positive and <= num_perm ({self.num_perm})")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold}")
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be in 0..2**32-1, not {self.seed}")
        if self.min_shingles < 1:
            raise ValueError(f"min_shingles must be >= 1, not {self.min_shingles}")

    @property
    def fingerprint(self) -> str:
        """Everything that makes two signatures (and band keys) comparable."""
        return (
            # v2: word shingles from polynomial word hashes (word_hashes) and band keys
            # mixed with numpy (band_keys_many); v1 hashed each word and band with xxh64.
            f"minhash-v2;affine32;xxh32;bandkeys=fmix64;{'words=poly64;' if self.shingle == 'word' else ''}"
            f"norm=text.normalize_for_matching;"
            f"{self.shingle}{self.shingle_size};perm={self.num_perm};seed={self.seed};"
            f"lsh={self.bands}x{self.rows}"
        )

    @property
    def tag(self) -> bytes:
        """4-byte CRC of :attr:`fingerprint`, prefixed to every stored signature."""
        return struct.pack("<I", zlib.crc32(self.fingerprint.encode()))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> DedupConfig:
        """Build from the ``DEDUP_*`` settings (declared in ``crawler/settings.py``)."""
        return cls(
            shingle=settings.get("DEDUP_SHINGLE"),
            shingle_size=settings.getint("DEDUP_SHINGLE_SIZE"),
            num_perm=settings.getint("DEDUP_NUM_PERM"),
            bands=settings.getint("DEDUP_BANDS"),
            rows=settings.getint("DEDUP_ROWS"),
            seed=settings.getint("DEDUP_SEED"),
            threshold=settings.getfloat("DEDUP_THRESHOLD"),
            min_shingles=settings.getint("DEDUP_MIN_SHINGLES"),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_hash(normalized: str) -> str:
    """Exact-duplicate key: 128-bit xxhash (hex) of the matching form of a body."""
    return xxhash.xxh3_128_hexdigest(normalized.encode("utf-8"))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (sorted, unique) of a 1-d array, by one sort.

    numpy 2's ``np.unique`` goes through a hash table first: 5 to 15 times slower
    on the few hundred shingle hashes of an article than a sort and a comparison.
    """
    out = np.sort(values)
    if out.size > 1:
        keep = np.empty(out.size, dtype=bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted arrays of unique shingle hashes."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def word_spans(codepoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the words of a matching-form text given as code points (single spaces)."""
    spaces = np.flatnonzero(codepoints == 0x20)
    starts = np.empty(spaces.size + 1, dtype=np.intp)
    ends = np.empty(spaces.size + 1, dtype=np.intp)
    starts[0], starts[1:] = 0, spaces + 1
    ends[:-1], ends[-1] = spaces, codepoints.size
    return starts, ends


def _joined(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of (non-empty) matching-form texts joined by one space, and where each text
    begins (with the total length plus one at the end): the words of the whole are those of the texts."""
    sizes = np.fromiter((a.size + 1 for a in arrays), dtype=np.intp, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.intp)
    np.cumsum(sizes, out=offsets[1:])
    parts = [_SPACE] * (2 * len(arrays) - 1)
    parts[::2] = arrays
    return np.concatenate(parts), offsets


def _number_lines_of_words(normalized: str) -> list[str]:
    """:func:`_number_lines` by splitting the text into words (any code point; a few texts only)."""
    words = normalized.split(" ")
    last = len(words) - 1
    return [f"{words[i - 1] if i else ''} {words[i + 1] if i < last else ''} {w}"
            for i, w in enumerate(words) if w.isdigit()]


def _beyond_bmp(codepoints: np.ndarray) -> bool:
    """Whether matching-form code points hold a character outside the digit table (the BMP)."""
    return codepoints.dtype != np.uint16 and codepoints.size > 0 and int(codepoints.max()) >= 0x10000


def _number_lines(
    docs: Sequence[tuple[str, np.ndarray]], joined: tuple[np.ndarray, ...] | None = None,
) -> list[list[str]]:
    """The numbers of each matching-form text (with its code points), each as the line
    "previous next number" (words hold no space; a missing word is empty).

    The wire form of :func:`number_contexts` (see :func:`_contexts_of_lines`). All texts are
    joined by spaces and scanned at once: numpy finds the runs of digits and the words they
    span, and Python only builds a line per number (a text of 300 words holds a few).

    Args:
        joined: :func:`_joined` of the non-empty texts' code points and its :func:`word_spans`
            (code points, offsets, starts, ends), when the caller has them.
    """
    out: list[list[str]] = [_NO_LINES] * len(docs)  # shared, never changed: replaced where numbers are
    full = [i for i, (_norm, cps) in enumerate(docs) if cps.size]
    if not full:
        return out
    if joined is None:
        cps, offsets = _joined([docs[i][1] for i in full])
        starts, ends = word_spans(cps)
    else:
        cps, offsets, starts, ends = joined
    beyond = []  # texts with characters outside the digit table: split into words
    if _beyond_bmp(cps):
        beyond = [i for i in full if _beyond_bmp(docs[i][1])]
        cps = np.minimum(cps, 0xFFFF)  # U+FFFF is no digit; those texts' lines are replaced below
    pos = np.flatnonzero(is_digit_table().take(cps))
    if pos.size:
        text = " ".join(docs[i][0] for i in full)
        cut = np.flatnonzero(pos[1:] != pos[:-1] + 1)
        run_start = np.concatenate((pos[:1], pos[cut + 1]))
        run_end = np.concatenate((pos[cut], pos[-1:])) + 1
        word = np.searchsorted(starts, run_start, side="right") - 1  # the word each run of digits begins in
        word = word[(starts[word] == run_start) & (ends[word] == run_end)]  # runs that are a whole word
        if word.size:
            first = np.searchsorted(starts, offsets)  # the first word of each text (and the end)
            doc = np.searchsorted(first, word, side="right") - 1
            has_before, has_after = word > first[doc], word + 1 < first[doc + 1]
            before, after = np.maximum(word - 1, 0), np.minimum(word + 1, starts.size - 1)
            zero = np.zeros(word.size, dtype=starts.dtype)
            bounds = (np.where(has_before, starts[before], zero), np.where(has_before, ends[before], zero),
                      np.where(has_after, starts[after], zero), np.where(has_after, ends[after], zero),
                      starts[word], ends[word])
            lines = [f"{text[s0:e0]} {text[s2:e2]} {text[s1:e1]}"
                     for s0, e0, s2, e2, s1, e1 in zip(*(b.tolist() for b in bounds))]
            at = np.searchsorted(doc, np.arange(len(full) + 1)).tolist()
            for k, i in enumerate(full):
                if at[k] < at[k + 1]:
                    out[i] = lines[at[k] : at[k + 1]]
    for i in beyond:
        out[i] = _number_lines_of_words(docs[i][0])
    return out


def _contexts_of_lines(lines: Sequence[str]) -> dict[tuple[str, str], frozenset[str]]:
    """:func:`number_contexts` from :func:`_number_lines` (those of a body, then those of its title:
    a key seen again gets the union of its numbers, in its first place)."""
    out: dict[tuple[str, str], set[str]] = {}
    for line in lines:
        before, after, number = line.split(" ")
        out.setdefault((before, after), set()).add(number)
    return {k: frozenset(v) for k, v in out.items()}


def _lines_of_contexts(contexts: dict[tuple[str, str], frozenset[str]]) -> str:
    """The inverse of :func:`_contexts_of_lines`, joined by newlines."""
    return "\n".join(f"{before} {after} {number}"
                     for (before, after), numbers in contexts.items() for number in numbers)


def number_contexts(normalized: str, codepoints: np.ndarray | None = None) -> dict[tuple[str, str], frozenset[str]]:
    """Numbers of a matching-form text keyed by their (previous, next) words.

    Two copies of one story give the same number in the same context; an
    update of a story ("... إلى 50 قتيلا" -> "... إلى 60 قتيلا") does not.
    A number is a word whose characters are all digits (``str.isdigit``).

    Args:
        codepoints: :func:`crawler.text.matching_codepoints` of *normalized*, when the caller has them.
    """
    if not normalized:
        return {}
    if codepoints is None:
        codepoints = np.frombuffer(normalized.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return _contexts_of_lines(_number_lines([(normalized, codepoints)])[0])


def number_conflicts(a: dict[tuple[str, str], frozenset[str]], b: dict[tuple[str, str], frozenset[str]]) -> int:
    """How many shared contexts hold different numbers in *a* and *b*."""
    if len(a) > len(b):
        a, b = b, a
    return sum(1 for k, v in a.items() if k in b and not (v & b[k]))


class StoryFacts:
    """What two copies of one story agree on, beyond their shared words.

    Attributes:
        numbers: :func:`number_contexts` of the body with those of the title (a context in
            both: the union of its numbers). An update of a story often changes the number in
            its headline ("... إلى 50 قتيلا" -> "... إلى 60 قتيلا") even where the changed
            sentence of the body was rewritten; copies keep both.
        terms: hashes of the headline's words (three letters or more, not numbers)
            that its own body repeats: the names it gives (who, where, what).
        words: sorted unique hashes of every word of the body.

    ``terms`` and ``words`` are worked out on first use (only copies that meet a
    candidate need them) from the body's word hashes and the title kept here; so is
    ``numbers`` when given as lines ("previous next number", newline-joined, see
    :func:`_number_lines`). Pickled as those lines and the hashes' bytes: the importing
    process unpickles one string and one bytes object a copy, not a dict of sets and an array.
    """

    __slots__ = ("_days", "_lines", "_numbers", "_terms", "_title", "_title_matching", "_values", "_words")

    def __init__(
        self, numbers: dict[tuple[str, str], frozenset[str]] | str, values: np.ndarray | bytes, title: str = "",
    ) -> None:
        if type(numbers) is str:
            self._lines: str | None = numbers
            self._numbers: dict[tuple[str, str], frozenset[str]] | None = None
        else:
            self._lines, self._numbers = None, numbers  # type: ignore[assignment]
        self._values = values
        self._title = title
        self._words: np.ndarray | None = None
        self._terms: np.ndarray | None = None
        self._days: frozenset[str] | None = None
        self._title_matching: tuple[str, np.ndarray] | None = None

    @property
    def numbers(self) -> dict[tuple[str, str], frozenset[str]]:
        if self._numbers is None:
            self._numbers = _contexts_of_lines(self._lines.split("\n")) if self._lines else {}
        return self._numbers

    def _hashes(self) -> np.ndarray:
        if type(self._values) is bytes:
            self._values = np.frombuffer(self._values, dtype=np.uint64)
        return self._values

    def _matching_title(self) -> tuple[str, np.ndarray]:
        """The title's matching form and code points, worked out once for :attr:`terms` and :attr:`days`."""
        if self._title_matching is None:
            self._title_matching = matching_codepoints(self._title)
        return self._title_matching

    @property
    def words(self) -> np.ndarray:
        if self._words is None:
            values = self._hashes()
            self._words = sorted_unique(values) if values.size else _NO_HASHES
        return self._words

    @property
    def terms(self) -> np.ndarray:
        if self._terms is None:
            self._terms = _title_terms(*self._matching_title(), self.words) \
                if self._title and self.words.size else _NO_HASHES
        return self._terms

    @property
    def days(self) -> frozenset[str]:
        """The weekdays the headline names (matching form): a daily digest names its day."""
        if self._days is None:
            self._days = frozenset(_WEEKDAYS.intersection(self._matching_title()[0].split())) \
                if self._title else frozenset()
        return self._days

    def __reduce__(self) -> tuple[Any, ...]:
        lines = self._lines if self._lines is not None else _lines_of_contexts(self._numbers or {})
        values = self._values if type(self._values) is bytes else self._values.tobytes()
        return StoryFacts, (lines, values, self._title)


_NO_HASHES = np.empty(0, dtype=np.uint64)
_NO_CODEPOINTS = np.empty(0, dtype=np.uint16)
_NO_LINES: list[str] = []
_SPACE = np.array([0x20], dtype=np.uint16)
#: The seven weekdays (with the article, as headlines write them), in the matching form: a
#: closed set of calendar words, not a list of names. Two headlines that each name a different
#: day are two days' news ("أبرز أخبار السبت 4 مارس" / "أبرز أحداث الخميس 2 مارس").
_WEEKDAYS = frozenset(normalize_for_matching(day) for day in (
    "الأحد", "الاثنين", "الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"))


def story_facts(
    normalized: str, codepoints: np.ndarray, spans: tuple[np.ndarray, np.ndarray], title: str = "",
    word_values: np.ndarray | None = None, title_matching: tuple[str, np.ndarray] | None = None,
) -> StoryFacts:
    """The :class:`StoryFacts` of a matching-form body (with its code points and word spans) and its title.

    Args:
        word_values: :func:`word_hashes` of the body's words, when the caller has them.
        title_matching: :func:`crawler.text.matching_codepoints` of *title*, likewise.
    """
    if title and title_matching is None:
        title_matching = matching_codepoints(title)
    body, heading = _number_lines([(normalized, codepoints), title_matching if title else ("", _NO_CODEPOINTS)])
    lines = "\n".join(body + heading)
    if not normalized:
        return StoryFacts(lines, _NO_HASHES)
    values = word_values if word_values is not None else word_hashes(codepoints, *spans)
    return StoryFacts(lines, values, title)


def shingles_and_facts(
    hasher: MinHasher, bodies: Sequence[tuple[str, np.ndarray]], titles: Sequence[str],
    headings: Sequence[tuple[str, np.ndarray] | None],
) -> tuple[list[np.ndarray], list[StoryFacts]]:
    """:meth:`MinHasher.shingles` and :func:`story_facts` of many bodies (matching form and code
    points) with their titles (and the titles' matching forms, or None): the same values.

    Done for all texts at once (they are joined by spaces: a word's hash depends on its code
    points alone, and the n-grams across two texts are left out), with a few dozen numpy
    operations in all rather than that many for each text.
    """
    n = len(bodies)
    missing = [i for i, (t, h) in enumerate(zip(titles, headings)) if t and h is None]
    found = dict(zip(missing, matching_codepoints_many([titles[i] for i in missing]))) if missing else {}
    heads = [(h if h is not None else found[i]) if t else ("", _NO_CODEPOINTS)
             for i, (t, h) in enumerate(zip(titles, headings))]
    docs = [*bodies, *heads]
    full = [i for i, (_norm, cps) in enumerate(docs) if cps.size]  # the bodies first, then the titles
    shingles: list[np.ndarray] = [np.empty(0, dtype=_U32)] * n
    values: list[np.ndarray] = [_NO_HASHES] * n
    if not full:
        lines = [_NO_LINES] * (2 * n)
    else:
        cps, offsets = _joined([docs[i][1] for i in full])  # joined once for the numbers and the words
        starts, ends = word_spans(cps)
        lines = _number_lines(docs, (cps, offsets, starts, ends))
        count = sum(1 for i in full if i < n)  # the bodies
        if count:
            first = np.searchsorted(starts, offsets[: count + 1])
            words = int(first[-1])
            hashes = _word_hashes_bounded(cps[: offsets[count] - 1], starts[:words], ends[:words])
            first = first.tolist()
            for k, i in enumerate(full[:count]):
                values[i] = hashes[first[k] : first[k + 1]]
            size = hasher.config.shingle_size
            if hasher.config.shingle == "word":
                sets = _ngram_hashes_joined(hashes, np.diff(first), size)
            else:
                sets = ngram_hashes_many([bodies[i][1] for i in full[:count]], size)
            for k, i in enumerate(full[:count]):
                shingles[i] = sets[k]
    facts = [
        StoryFacts("\n".join(lines[i] + lines[n + i]), values[i], titles[i]) if bodies[i][1].size
        else StoryFacts("\n".join(lines[i] + lines[n + i]), _NO_HASHES)
        for i in range(n)
    ]
    return shingles, facts


def _title_terms(norm_t: str, cps_t: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Hashes of the title's words (matching form, code points) of three letters or more, not numbers,
    that *words* holds."""
    if not norm_t:
        return _NO_HASHES
    starts, ends = word_spans(cps_t)
    long = (ends - starts) >= 3
    if cps_t.dtype == np.uint16 or int(cps_t.max()) < 0x10000:  # numbers are not names
        count = np.zeros(cps_t.size + 1, dtype=np.int32)
        np.cumsum(is_digit_table().take(cps_t), out=count[1:])
        long &= count[ends] - count[starts] < ends - starts
    if not long.any():
        return _NO_HASHES
    hashed = word_hashes(cps_t, starts[long], ends[long])
    return sorted_unique(hashed[_contains(words, hashed)])


def _contains(sorted_unique: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which *values* are in *sorted_unique* (a few values against a few hundred: no ``np.isin`` set-up)."""
    if not sorted_unique.size:
        return np.zeros(values.size, dtype=bool)
    at = np.searchsorted(sorted_unique, values)
    at[at == sorted_unique.size] = 0
    return sorted_unique[at] == values


def facts_conflict(a: StoryFacts, b: StoryFacts, *, names: bool = True) -> str | None:
    """Why *a* and *b* are two stories despite their shared words, or None.

    ``"numbers"``: a shared context holds different numbers (an update: "إلى 12
    شخصا" -> "إلى 19 شخصا"). ``"date"``: the headlines name different weekdays
    (two days' digests). ``"names"``: each headline names something that its
    own body repeats and the other body never mentions (one template, two
    countries, cities or people: a cable to the president of one country and the
    same cable to another), read off the two texts, with no list of names; checked
    only when *names* (the clusterer asks below ``DEDUP_NAMES_BELOW``: texts closer
    than that are one story told twice).
    """
    if number_conflicts(a.numbers, b.numbers):
        return "numbers"
    if a.days and b.days and not a.days & b.days:
        return "date"
    if names and a.terms.size and b.terms.size and not (
        _contains(b.words, a.terms).all() or _contains(a.words, b.terms).all()
    ):
        return "names"
    return None


_WORD_BASE = 0x9E3779B97F4A7C15 | 1  # odd: invertible modulo 2**64
_POWERS_KEPT = 1 << 18  # code points: tables for texts up to this long are kept (4 MB)


def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(B**i, B**-i) modulo 2**64 for i < *size*."""
    out = []
    for base in (_WORD_BASE, pow(_WORD_BASE, -1, 1 << 64)):
        p = np.full(size, base, dtype=np.uint64)
        p[0] = 1
        out.append(np.cumprod(p, dtype=np.uint64))  # wraps modulo 2**64, as intended
    return out[0], out[1]


@lru_cache(maxsize=1)
def _kept_powers() -> tuple[np.ndarray, np.ndarray]:
    return _power_tables(_POWERS_KEPT)


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Power tables for a text of *n* code points (a longer text gets its own, not kept)."""
    return _kept_powers() if n <= _POWERS_KEPT else _power_tables(n)


def word_hashes(codepoints: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """64-bit hashes of words given as code-point spans: one per word, from its characters alone.

    A polynomial hash of the word's code points modulo 2**64, from prefix sums
    (so all words of a text are hashed in a few numpy operations, with no
    Python string per word), finished with a 64-bit mixer. Equal words give
    equal hashes wherever they stand.
    """
    n = codepoints.size
    power, inverse = _powers(n)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codepoints.astype(np.uint64) * power[:n], out=prefix[1:])
    raw = (prefix[ends] - prefix[starts]) * inverse[starts]  # sum of cp[s + k] * B**k
    return _fmix(raw + (ends - starts).astype(np.uint64), _FMIX64)


def _word_hashes_bounded(codepoints: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """:func:`word_hashes` of a long text (many joined) in pieces of at most ``_POWERS_KEPT`` code
    points (cut between words), so that the kept power tables serve."""
    if codepoints.size <= _POWERS_KEPT:
        return word_hashes(codepoints, starts, ends)
    out = []
    lo = 0
    while lo < starts.size:
        base = int(starts[lo])
        hi = max(lo + 1, int(np.searchsorted(ends, base + _POWERS_KEPT, side="right")))
        stop = int(ends[hi - 1])
        out.append(word_hashes(codepoints[base:stop], starts[lo:hi] - base, ends[lo:hi] - base))
        lo = hi
    return np.concatenate(out)


def ngram_hashes(base: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of the n-grams of a sequence of 64-bit token values."""
    if base.size == 0:
        return np.empty(0, dtype=_U32)
    n = min(n, base.size)
    count = base.size - n + 1
    h = base[:count].copy()
    for j in range(1, n):
        h = h * _MIX_MUL + base[j : j + count]
    h = _fmix(h + np.uint64(n), _FMIX64)
    return sorted_unique((h >> np.uint64(32)).astype(_U32))


def ngram_hashes_many(bases: Sequence[np.ndarray], n: int) -> list[np.ndarray]:
    """:func:`ngram_hashes` of many token sequences at once (the same arrays).

    For many short texts (headlines), per-call overhead dominates: see :func:`_ngram_hashes_joined`.
    """
    sizes = np.fromiter((b.size for b in bases), dtype=np.intp, count=len(bases))
    joined = np.concatenate(bases) if len(bases) else np.empty(0, dtype=np.uint64)
    return _ngram_hashes_joined(joined, sizes, n)


def _ngram_hashes_joined(joined: np.ndarray, sizes: np.ndarray, n: int) -> list[np.ndarray]:
    """:func:`ngram_hashes` of each of the token sequences that *joined* holds one after another
    (*sizes* tokens each).

    One pass of numpy operations over all sequences, n-grams across a boundary
    masked out, and one sort of (sequence, hash) keys for all the unique sets; the
    sets returned are views of one array.
    """
    out: list[np.ndarray] = [np.empty(0, dtype=_U32)] * len(sizes)
    ends = np.cumsum(sizes).tolist()
    full = [i for i, size in enumerate(sizes.tolist()) if size >= n]
    for i, size in enumerate(sizes.tolist()):
        if 0 < size < n:  # shorter than one n-gram: the whole sequence is one
            out[i] = ngram_hashes(joined[ends[i] - size : ends[i]], n)
    if not full:
        return out
    if len(full) < len(sizes):
        joined = np.concatenate([joined[ends[i] - sizes[i] : ends[i]] for i in full])
        sizes = sizes[full]
    joined = joined.astype(np.uint64, copy=False)
    count = joined.size - n + 1
    h = joined[:count].copy()
    for j in range(1, n):
        h = h * _MIX_MUL + joined[j : j + count]
    h = _fmix(h + np.uint64(n), _FMIX64) >> np.uint64(32)
    owner = np.repeat(np.arange(len(full), dtype=np.uint64), sizes)  # the sequence of each token
    inside = owner[:count] == owner[n - 1 :]  # n-grams that do not cross into the next sequence
    keys = sorted_unique((owner[:count][inside] << np.uint64(32)) | h[inside])
    bounds = np.searchsorted(keys >> np.uint64(32), np.arange(len(full) + 1, dtype=np.uint64)).tolist()
    values = (keys & np.uint64(0xFFFFFFFF)).astype(_U32)
    for k, i in enumerate(full):
        out[i] = values[bounds[k] : bounds[k + 1]]
    return out


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) permutation parameters of datasketch's default ``affine32`` MinHash.

    The same draws as ``datasketch.MinHash(num_perm, seed).permutations`` (datasketch
    2.0, pinned by a test), made here so that hashing never imports datasketch,
    whose package import pulls in scipy (most of a short import's start-up).
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=_U32) * _U32(2) + _U32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=_U32)
    return a, b


class MinHasher:
    """Shingles, MinHash signatures and LSH band keys for one :class:`DedupConfig`.

    Args:
        config: the configuration; signatures of different configurations
            are never compared (:meth:`decode` raises).
    """

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        a, b = affine32_permutations(config.num_perm, config.seed)
        self._a = a[:, None]
        self._b = b[:, None]
        self._prefix = _SIG_MAGIC + config.tag  # of every encoded signature (the tag is a CRC: once)

    # -- shingles -----------------------------------------------------------
    def shingles(
        self, text: str, *, normalized: bool = False, codepoints: np.ndarray | None = None,
        spans: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Sorted unique uint32 shingle hashes of *text* (matching form).

        Args:
            normalized: *text* is already in the matching form.
            codepoints, spans: :func:`crawler.text.matching_codepoints` and
                :func:`word_spans` of the matching form, when the caller has them.
        """
        if codepoints is None:
            if normalized:
                codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            else:
                codepoints = matching_codepoints(text)[1]
        if codepoints.size == 0:
            return np.empty(0, dtype=_U32)
        if self.config.shingle == "char":
            base = codepoints.astype(np.uint64)
        else:
            base = word_hashes(codepoints, *(spans if spans is not None else word_spans(codepoints)))
        return ngram_hashes(base, self.config.shingle_size)

    def shingles_many(self, texts: Sequence[str]) -> list[np.ndarray]:
        """:meth:`shingles` of many texts already in the matching form (the same arrays).

        Character shingles of all texts are hashed in one pass
        (:func:`ngram_hashes_many`): for headlines, a few dozen characters
        each, that is several times faster than one call per text.
        """
        if self.config.shingle != "char":
            return [self.shingles(t, normalized=True) for t in texts]
        bases = [np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32) for t in texts]
        return ngram_hashes_many(bases, self.config.shingle_size)

    # -- signatures ---------------------------------------------------------
    def signatures(self, shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
        """MinHash signatures of many shingle sets: an (n, num_perm) uint32 array.

        Empty sets get the all-max signature (as an empty datasketch MinHash).
        """
        out = np.full((len(shingle_sets), self.config.num_perm), np.iinfo(_U32).max, dtype=_U32)
        limit = max(1, _MAX_CELLS // self.config.num_perm)
        start = 0
        while start < len(shingle_sets):
            stop, cells = start, 0
            while stop < len(shingle_sets) and (cells == 0 or cells + shingle_sets[stop].size <= limit):
                cells += shingle_sets[stop].size
                stop += 1
            self._block(shingle_sets, start, stop, out)
            start = stop
        return out

    def _block(self, sets: Sequence[np.ndarray], start: int, stop: int, out: np.ndarray) -> None:
        idx = [i for i in range(start, stop) if sets[i].size]
        if not idx:
            return
        hv = _fmix(np.concatenate([sets[i] for i in idx]).astype(_U32), _FMIX32)
        offsets = np.cumsum([0] + [sets[i].size for i in idx[:-1]])
        phv = np.multiply(self._a, hv[None, :])  # uint32 wrap-around: the affine32 scheme
        phv += self._b  # in place: one pass over the block less
        out[idx] = np.minimum.reduceat(phv, offsets, axis=1).T

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        return self.signatures([shingles])[0]

    def to_minhash(self, signature: np.ndarray) -> LeanMinHash:
        """The signature as a datasketch ``LeanMinHash`` (for use with datasketch tools)."""
        from datasketch import LeanMinHash, MinHash  # its import pulls in scipy: only when asked

        m = MinHash(num_perm=self.config.num_perm, seed=self.config.seed, hashvalues=signature, scheme="affine32")
        return LeanMinHash(m)

    # -- LSH ------------------------------------------------------------------
    def band_keys(self, signature: np.ndarray) -> list[int]:
        """One signed 64-bit key per band: equal keys make two documents candidates."""
        return self.band_keys_many(signature[None, :])[0].tolist()

    def band_keys_many(self, signatures: np.ndarray) -> np.ndarray:
        """:meth:`band_keys` of an (n, num_perm) array of signatures: an (n, bands) int64 array.

        A band's key is a 64-bit hash of its rows' values and of its number (so
        equal values in different bands never collide), computed for all
        bands of all documents in a few numpy operations.
        """
        bands, rows = self.config.bands, self.config.rows
        values = np.asarray(signatures, dtype=_U32)[:, : bands * rows].reshape(-1, bands, rows).astype(np.uint64)
        h = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * _MIX_MUL, values.shape[:2]).copy()
        for r in range(rows):
            h = _fmix(h ^ values[:, :, r], _FMIX64) * _MIX_MUL
        return _fmix(h, _FMIX64).view(np.int64)

    # -- storage --------------------------------------------------------------
    def encode(self, signature: np.ndarray) -> bytes:
        """Compact bytes: magic, config tag, little-endian uint32 values (~4 bytes/perm)."""
        return self._prefix + np.asarray(signature, dtype="<u4").tobytes()

    def encode_many(self, signatures: np.ndarray) -> list[bytes]:
        """:meth:`encode` of each row of an (n, num_perm) array of signatures."""
        raw = np.ascontiguousarray(signatures, dtype="<u4").tobytes()
        step, prefix = 4 * self.config.num_perm, self._prefix
        return [prefix + raw[i : i + step] for i in range(0, len(raw), step)]

    def decode(self, blob: bytes) -> np.ndarray:
        """Inverse of :meth:`encode`.

        Raises:
            SignatureMismatch: *blob* was made with another configuration.
        """
        if blob[:3] != _SIG_MAGIC or blob[3:7] != self.config.tag:
            raise SignatureMismatch("signature was made with another dedup configuration")
        sig = np.frombuffer(blob, dtype="<u4", offset=7)
        if sig.size != self.config.num_perm:
            raise SignatureMismatch("signature length does not match num_perm")
        return sig.astype(_U32)

    def estimate(self, sig_a: np.ndarray, sig_b: np.ndarray) -> float:
        """Jaccard estimated from two signatures (share of equal values)."""
        return float(np.mean(sig_a == sig_b))
