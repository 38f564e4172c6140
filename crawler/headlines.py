"""Headline keys and near-duplicate matching.

Every title and every related-list headline gets a *key*: the
:func:`crawler.text.normalize_for_matching` form after stripping the tags
that sites put in front of or after a headline ("عاجل |", "فيديو:",
"[صور]", "- بالفيديو"). Identical keys merge by hash. Keys that differ are
compared by character n-gram Jaccard similarity, found through a small
MinHash LSH and *verified exactly*: the n-gram sets must be similar enough,
their numbers must be the same (an update "... إلى 50 قتيلا" is not "... إلى 60
قتيلا"), and the words that differ must be few. Different headlines about the
same event share names but not phrasing, and stay apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import xxhash
from itemadapter import ItemAdapter

from crawler import dedup_store as store
from crawler.dedup import DedupConfig, MinHasher, to_signed64
from crawler.storage import utcnow
from crawler.text import clean_text, normalize_for_matching

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["HeadlineClusterer", "HeadlineConfig", "headline_key", "match_score", "ngrams", "page_headlines", "variant_id"]

# Tags (matching form) that precede or follow a headline without being part of it.
_TAGS = {
    normalize_for_matching(t)
    for t in (
        "عاجل", "خبر عاجل", "عاجل جدا", "حصري", "خاص", "حصريا", "فيديو", "بالفيديو", "شاهد", "شاهد بالفيديو",
        "صور", "بالصور", "فيديو وصور", "بالفيديو والصور", "مباشر", "بث مباشر", "تحديث", "محدث", "انفوجراف",
        "إنفوجرافيك", "انفوجرافيك", "تقرير", "breaking", "video", "urgent", "exclusive", "update", "live",
    )
}
_SEP = r"(?:\s*(?:\||:|-|–|—|/|»|\.\.+|…)\s*)"
_LEAD = re.compile(r"^\s*[\[(«]?\s*([^|:\-–—/»\[\]()«.…]{1,25}?)\s*[\])»]?" + _SEP)
_TRAIL = re.compile(_SEP + r"[\[(«]?\s*([^|:\-–—/»\[\]()«.…]{1,25}?)\s*[\])»]?\s*$")
_BRACKETED = re.compile(r"[\[(]\s*([^\[\]()]{1,25}?)\s*[\])]")
_DIGITS = re.compile(r"\d+")


def _strip_tags(text: str) -> str:
    for _ in range(3):
        m = _LEAD.match(text)
        if m and normalize_for_matching(m.group(1)) in _TAGS and text[m.end():].strip():
            text = text[m.end():]
            continue
        m = _TRAIL.search(text)
        if m and normalize_for_matching(m.group(1)) in _TAGS and text[: m.start()].strip():
            text = text[: m.start()]
            continue
        break
    return _BRACKETED.sub(lambda m: " " if normalize_for_matching(m.group(1)) in _TAGS else m.group(0), text)


def headline_key(headline: str) -> str:
    """The matching key of a headline: tags stripped, then normalised ("" if empty)."""
    return normalize_for_matching(_strip_tags(clean_text(headline or "")))


def variant_id(key: str) -> int:
    """Signed 64-bit id of a headline key."""
    return to_signed64(xxhash.xxh64_intdigest(key.encode("utf-8")))


def ngrams(key: str, n: int = 3) -> set[str]:
    """Character n-grams of a key, words padded with spaces."""
    padded = f" {key} "
    if len(padded) <= n:
        return {padded}
    return {padded[i : i + n] for i in range(len(padded) - n + 1)}


@dataclass(frozen=True)
class HeadlineConfig:
    """Parameters of headline near-duplicate matching.

    Args:
        ngram: character n-gram size.
        num_perm, bands, rows, seed: the MinHash LSH that finds candidates.
        threshold: character n-gram Jaccard similarity needed to merge.
        max_word_diff: at most this many words may be added to a headline that merges.

    Raises:
        ValueError: a parameter is out of range.
    """

    ngram: int = 3
    num_perm: int = 64
    bands: int = 16
    rows: int = 4
    seed: int = 7
    threshold: float = 0.6
    max_word_diff: int = 2

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"headline threshold must be in (0, 1], not {self.threshold}")
        if self.max_word_diff < 0:
            raise ValueError("max_word_diff must be >= 0")
        self.minhash_config()  # validates the LSH parameters

    def minhash_config(self) -> DedupConfig:
        return DedupConfig(
            shingle="char", shingle_size=self.ngram, num_perm=self.num_perm, bands=self.bands,
            rows=self.rows, seed=self.seed, threshold=self.threshold, min_shingles=1,
        )

    @property
    def fingerprint(self) -> str:
        return "headline-v1;" + self.minhash_config().fingerprint

    @classmethod
    def from_settings(cls, settings: object) -> HeadlineConfig:
        d = cls()
        return cls(
            ngram=settings.getint("DEDUP_HEADLINE_NGRAM", d.ngram),  # type: ignore[attr-defined]
            num_perm=settings.getint("DEDUP_HEADLINE_NUM_PERM", d.num_perm),  # type: ignore[attr-defined]
            bands=settings.getint("DEDUP_HEADLINE_BANDS", d.bands),  # type: ignore[attr-defined]
            rows=settings.getint("DEDUP_HEADLINE_ROWS", d.rows),  # type: ignore[attr-defined]
            threshold=settings.getfloat("DEDUP_HEADLINE_THRESHOLD", d.threshold),  # type: ignore[attr-defined]
            max_word_diff=settings.getint("DEDUP_HEADLINE_MAX_WORD_DIFF", d.max_word_diff),  # type: ignore[attr-defined]
        )


def match_score(key_a: str, key_b: str, config: HeadlineConfig) -> float | None:
    """Exact verification of two headline keys: their n-gram Jaccard, or None if they must not merge.

    Merged: identical keys; or one key's words all in the other with at most
    ``max_word_diff`` words added; or one word spelled differently (n-gram
    similarity >= 0.8). Always: at least two words, the same numbers, and
    n-gram Jaccard >= ``threshold``. A replaced word ("ارتفاع" / "انخفاض")
    is a different headline.
    """
    if key_a == key_b:
        return 1.0
    words_a, words_b = set(key_a.split()), set(key_b.split())
    only_a, only_b = words_a - words_b, words_b - words_a
    if min(len(words_a), len(words_b)) < 2 or _DIGITS.findall(key_a) != _DIGITS.findall(key_b):
        return None
    a, b = ngrams(key_a, config.ngram), ngrams(key_b, config.ngram)
    score = len(a & b) / len(a | b)
    if score < config.threshold:
        return None
    if not only_a or not only_b:  # words added on one side only
        return score if len(only_a | only_b) <= config.max_word_diff else None
    if len(only_a) == 1 and len(only_b) == 1:  # one word re-spelled
        (wa,), (wb,) = only_a, only_b
        ga, gb = ngrams(wa, config.ngram), ngrams(wb, config.ngram)
        return score if len(ga & gb) / len(ga | gb) >= 0.5 else None
    return None


@dataclass
class HeadlineRows:
    """Rows of one batch, written by :meth:`HeadlineClusterer.write`."""

    variants: list[dict[str, Any]] = field(default_factory=list)
    bands: list[dict[str, int]] = field(default_factory=list)
    occurrences: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    new_clusters: int = 0


def page_headlines(ad: Any) -> list[tuple[str, str, int, str | None]]:
    """(headline, kind, pos, url) of an item: its title, then each related-list entry."""
    out: list[tuple[str, str, int, str | None]] = []
    if ad.get("title"):
        out.append((ad["title"], "title", 0, ad["url"]))
    for pos, entry in enumerate(ad.get("related_headlines") or []):
        if isinstance(entry, dict):
            out.append((entry.get("headline") or "", "related", pos, entry.get("url")))
        elif isinstance(entry, str):
            out.append((entry, "related", pos, None))
    return out


class HeadlineClusterer:
    """Assigns every headline seen to a cluster, through the database index.

    Args:
        config: matching parameters.
        stats: a stats collector (``dedup/headlines_*`` counters).
    """

    def __init__(self, config: HeadlineConfig, stats: Any) -> None:
        self.config = config
        self.stats = stats
        self.hasher = MinHasher(config.minhash_config())
        self._known: dict[int, str] = {}  # variant id -> cluster id (a bounded cache)

    def resolve(self, s: Session, ads: list[Any]) -> HeadlineRows:
        """Cluster the headlines of a batch of items; returns the rows to write.

        A spelling seen before keeps its cluster; a new spelling with a known
        key joins that key's cluster (exact merge); a new key is matched by
        n-gram LSH candidates verified with :func:`match_score`, or founds a cluster.
        """
        rows, now, seen = HeadlineRows(), utcnow(), []
        for ad in ads:
            ad = ad if isinstance(ad, ItemAdapter) else ItemAdapter(ad)
            for raw, kind, pos, url in page_headlines(ad):
                text = clean_text(raw).replace("\n", " ")
                key = headline_key(text)
                if key:
                    seen.append((text, key, variant_id(text), ad["url"], kind, pos, url))
        if len(self._known) > 200_000:
            self._known.clear()
        missing = [vid for _t, _k, vid, *_ in seen if vid not in self._known]
        for vid, (cid, _text, _key) in store.variants_by_id(s, missing).items():
            self._known[vid] = cid
        new: dict[int, tuple[str, str]] = {}
        for text, key, vid, *_ in seen:
            if vid not in self._known and vid not in new:
                new[vid] = (text, key)
        by_key = store.clusters_by_key(s, [variant_id(k) for _t, k in new.values()])
        fresh: dict[int, tuple[str, str]] = {}  # new variants with a new key, first spelling per key
        for vid, (text, key) in new.items():
            kid = variant_id(key)
            if kid in by_key:
                self._add(rows, vid, text, key, by_key[kid], now, [])
                self.stats.inc_value("dedup/headlines_exact")
            elif kid in fresh:
                continue
            else:
                fresh[kid] = (text, key)
        key_cluster = self._cluster_new(s, fresh, rows, now)
        for vid, (text, key) in new.items():  # other spellings of a key that was new in this batch
            if vid not in self._known:
                self._add(rows, vid, text, key, key_cluster[variant_id(key)], now, [])
        for _text, _key, vid, page_url, kind, pos, url in seen:
            rows.occurrences.append(
                {"page_url": page_url, "kind": kind, "pos": pos, "variant": vid, "url": url, "created_at": now}
            )
        self.stats.inc_value("dedup/headlines_seen", len(seen))
        self.stats.inc_value("dedup/headlines_merged", len(seen) - rows.new_clusters)
        return rows

    def _add(self, rows: HeadlineRows, vid: int, text: str, key: str, cid: str, now: Any, keys: list[int]) -> None:
        self._known[vid] = cid
        rows.variants.append(
            {"variant": vid, "key_id": variant_id(key), "cluster_id": cid, "text": text, "key": key, "created_at": now}
        )
        rows.bands.extend({"key": k, "variant": vid} for k in keys)

    def _cluster_new(self, s: Session, new: dict[int, tuple[str, str]], rows: HeadlineRows, now: Any) -> dict[int, str]:
        """Cluster spellings whose keys are new: *new* maps key id -> (text, key); returns key id -> cluster."""
        out: dict[int, str] = {}
        if not new:
            return out
        kids = list(new)
        sets = [self.hasher.shingles(f" {new[k][1]} ", normalized=True) for k in kids]
        keys = [self.hasher.band_keys(sig) for sig in self.hasher.signatures(sets)]
        by_band = store.headline_band_candidates(s, [k for ks in keys for k in ks])
        info = store.variants_by_id(s, sorted({v for members in by_band.values() for v in members}))
        batch_band: dict[int, set[int]] = {}
        for kid, ks in zip(kids, keys):
            text, key = new[kid]
            cands = set().union(*(by_band.get(k, ()) for k in ks), *(batch_band.get(k, ()) for k in ks))
            best = None
            for cand in sorted(cands):
                cid, ctext, ckey = info[cand]
                score = match_score(key, ckey, self.config)
                if score is not None and (best is None or score > best[3]):
                    best = (cand, cid, ctext, score)
            if best is None:
                cid = "h" + _hex(key)
                rows.new_clusters += 1
            else:
                cid = best[1]
                self.stats.inc_value("dedup/headlines_ngram")
                rows.merges.append({
                    "kind": "headline", "member": text[:2048], "matched": best[2][:2048], "cluster_id": cid,
                    "method": "ngram", "score": round(best[3], 4), "config": self.config.fingerprint[:128],
                    "created_at": now,
                })
            vid = variant_id(text)
            info[vid] = (cid, text, key)
            for k in ks:
                batch_band.setdefault(k, set()).add(vid)
            self._add(rows, vid, text, key, cid, now, ks)
            out[kid] = cid
        return out

    def write(self, s: Session, rows: HeadlineRows) -> None:
        store.write_headlines(s, rows.variants, rows.bands, rows.occurrences, rows.merges)


def _hex(key: str) -> str:
    return xxhash.xxh64_hexdigest(key.encode("utf-8"))
