"""MinHash signatures, LSH band keys and exact verification for article dedup.

The pipeline (``pipelines/dedup.py``) only adapts the two small classes here:

* :class:`DedupConfig` -- the parameters that make signatures comparable
  (shingling, permutations, seed, bands) plus the merge threshold, validated
  in ``__post_init__``; its :attr:`~DedupConfig.fingerprint` is stored with
  every signature and in the ``dedup_config`` table, so a change of
  configuration is detected instead of silently mixing incomparable sketches.
* :class:`MinHasher` -- turns texts into shingle sets (numpy arrays of 32-bit
  hashes of the :func:`crawler.text.normalize_for_matching` form) and computes
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
from itertools import compress
from typing import Any

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash

from crawler.text import normalize_for_matching

__all__ = [
    "DedupConfig", "MinHasher", "SignatureMismatch", "content_hash", "jaccard", "number_conflicts",
    "number_contexts", "to_signed64",
]

_U32 = np.uint32
_MIX_MUL = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier for n-gram rolling hash
_FMIX32 = (_U32(16), _U32(0x85EBCA6B), _U32(13), _U32(0xC2B2AE35), _U32(16))
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(33), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33))
_SIG_MAGIC = b"MH1"
_MAX_CELLS = 1 << 22  # permutations x shingles per numpy block (16 MB of uint32)


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
            f"minhash-v1;affine32;xxh32;norm=text.normalize_for_matching;"
            f"{self.shingle}{self.shingle_size};perm={self.num_perm};seed={self.seed};"
            f"lsh={self.bands}x{self.rows}"
        )

    @property
    def tag(self) -> bytes:
        """4-byte CRC of :attr:`fingerprint`, prefixed to every stored signature."""
        return struct.pack("<I", zlib.crc32(self.fingerprint.encode()))

    @classmethod
    def from_settings(cls, settings: Any) -> DedupConfig:
        """Build from ``DEDUP_*`` Scrapy settings (defaults where unset)."""
        d = cls()
        return cls(
            shingle=settings.get("DEDUP_SHINGLE", d.shingle),
            shingle_size=settings.getint("DEDUP_SHINGLE_SIZE", d.shingle_size),
            num_perm=settings.getint("DEDUP_NUM_PERM", d.num_perm),
            bands=settings.getint("DEDUP_BANDS", d.bands),
            rows=settings.getint("DEDUP_ROWS", d.rows),
            seed=settings.getint("DEDUP_SEED", d.seed),
            threshold=settings.getfloat("DEDUP_THRESHOLD", d.threshold),
            min_shingles=settings.getint("DEDUP_MIN_SHINGLES", d.min_shingles),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_hash(normalized: str) -> str:
    """Exact-duplicate key: 128-bit xxhash (hex) of the matching form of a body."""
    return xxhash.xxh3_128_hexdigest(normalized.encode("utf-8"))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted arrays of unique shingle hashes."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def number_contexts(normalized: str, words: list[str] | None = None) -> dict[tuple[str, str], frozenset[str]]:
    """Numbers of a matching-form text keyed by their (previous, next) words.

    Two copies of one story give the same number in the same context; an
    update of a story ("... إلى 50 قتيلا" -> "... إلى 60 قتيلا") does not.

    Args:
        words: ``normalized.split(" ")`` when the caller has it already.
    """
    if words is None:
        words = normalized.split(" ")
    out: dict[tuple[str, str], set[str]] = {}
    last = len(words) - 1
    for i in compress(range(len(words)), map(str.isdigit, words)):  # the digit words, found at C speed
        key = (words[i - 1] if i else "", words[i + 1] if i < last else "")
        out.setdefault(key, set()).add(words[i])
    return {k: frozenset(v) for k, v in out.items()}


def number_conflicts(a: dict[tuple[str, str], frozenset[str]], b: dict[tuple[str, str], frozenset[str]]) -> int:
    """How many shared contexts hold different numbers in *a* and *b*."""
    if len(a) > len(b):
        a, b = b, a
    return sum(1 for k, v in a.items() if k in b and not (v & b[k]))


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
    return np.unique((h >> np.uint64(32)).astype(_U32))


class MinHasher:
    """Shingles, MinHash signatures and LSH band keys for one :class:`DedupConfig`.

    Args:
        config: the configuration; signatures of different configurations
            are never compared (:meth:`decode` raises).
    """

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        # The permutations of datasketch's default scheme, so that our values
        # equal MinHash(num_perm, seed).update_batch(shingle hashes).
        perms = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=int).permutations
        self._a = np.asarray(perms[0], dtype=_U32)[:, None]
        self._b = np.asarray(perms[1], dtype=_U32)[:, None]
        self._word_cache: dict[str, bytes] = {}

    # -- shingles -----------------------------------------------------------
    def shingles(self, text: str, *, normalized: bool = False, words: list[str] | None = None) -> np.ndarray:
        """Sorted unique uint32 shingle hashes of *text* (matching form).

        Args:
            words: ``text.split(" ")`` of a *normalized* text, when the caller has it already.
        """
        norm = text if normalized else normalize_for_matching(text)
        if not norm:
            return np.empty(0, dtype=_U32)
        if self.config.shingle == "char":
            base = np.frombuffer(norm.encode("utf-32-le"), dtype=_U32).astype(np.uint64)
        else:
            cache = self._word_cache
            if len(cache) > 500_000:
                cache.clear()
            if words is None:
                words = norm.split(" ")
            for w in set(words).difference(cache):  # the new words (found at C speed), hashed once
                cache[w] = xxhash.xxh64_digest(w.encode("utf-8"))  # 8 bytes, big-endian
            # One bytes join of the cached digests: no Python int per word.
            base = np.frombuffer(b"".join(map(cache.__getitem__, words)), dtype=">u8").astype(np.uint64)
        return ngram_hashes(base, self.config.shingle_size)

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
        phv = self._a * hv[None, :] + self._b  # uint32 wrap-around: the affine32 scheme
        out[idx] = np.minimum.reduceat(phv, offsets, axis=1).T

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        return self.signatures([shingles])[0]

    def to_minhash(self, signature: np.ndarray) -> LeanMinHash:
        """The signature as a datasketch ``LeanMinHash`` (for use with datasketch tools)."""
        m = MinHash(num_perm=self.config.num_perm, seed=self.config.seed, hashvalues=signature, scheme="affine32")
        return LeanMinHash(m)

    # -- LSH ------------------------------------------------------------------
    def band_keys(self, signature: np.ndarray) -> list[int]:
        """One signed 64-bit key per band: equal keys make two documents candidates."""
        r = self.config.rows
        raw = np.ascontiguousarray(signature[: self.config.bands * r], dtype="<u4").tobytes()
        step = 4 * r
        return [
            to_signed64(xxhash.xxh64_intdigest(raw[i * step : (i + 1) * step], seed=i))
            for i in range(self.config.bands)
        ]

    # -- storage --------------------------------------------------------------
    def encode(self, signature: np.ndarray) -> bytes:
        """Compact bytes: magic, config tag, little-endian uint32 values (~4 bytes/perm)."""
        return _SIG_MAGIC + self.config.tag + np.asarray(signature, dtype="<u4").tobytes()

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
