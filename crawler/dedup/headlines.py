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
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash
from itemadapter import ItemAdapter

from crawler.dedup import index as store
from crawler.dedup.minhash import DedupConfig, MinHasher, to_signed64
from crawler.storage.models import utcnow
from crawler.text import clean_text, matching_codepoints_many, normalize_for_matching
from crawler import stats as st

if TYPE_CHECKING:
    from datetime import datetime

    from scrapy.settings import BaseSettings
    from sqlalchemy.orm import Session

    from crawler.stats import StatsLike
    from crawler.storage.database import Database

__all__ = [
    "HeadlineClusterer", "HeadlineConfig", "HeadlinePrep", "headline_key", "match_score", "ngrams", "page_headlines",
    "prepare_headlines", "variant_id",
]

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


# Every match of _LEAD and _TRAIL holds one of these (in _SEP), every match of _BRACKETED one of "[(":
# most headlines hold none, and skip the three searches.
_TAG_CHARS = re.compile(r"[|:\-–—/».…\[(]")


def _strip_tags(text: str) -> str:
    if not _TAG_CHARS.search(text):
        return text
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
    def from_settings(cls, settings: BaseSettings) -> HeadlineConfig:
        return cls(
            ngram=settings.getint("DEDUP_HEADLINE_NGRAM"),
            num_perm=settings.getint("DEDUP_HEADLINE_NUM_PERM"),
            bands=settings.getint("DEDUP_HEADLINE_BANDS"),
            rows=settings.getint("DEDUP_HEADLINE_ROWS"),
            threshold=settings.getfloat("DEDUP_HEADLINE_THRESHOLD"),
            max_word_diff=settings.getint("DEDUP_HEADLINE_MAX_WORD_DIFF"),
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
    return _match(_Key(key_a, config.ngram), _Key(key_b, config.ngram), config)


class _Key:
    """A headline key and what :func:`match_score` reads of it, each worked out once: a key meets many candidates."""

    __slots__ = ("_grams", "digits", "key", "n", "words")

    def __init__(self, key: str, n: int) -> None:
        self.key, self.n = key, n
        self.words = set(key.split())
        self.digits = _DIGITS.findall(key)
        self._grams: set[str] | None = None

    @property
    def grams(self) -> set[str]:
        if self._grams is None:
            self._grams = ngrams(self.key, self.n)
        return self._grams


def _match(ka: _Key, kb: _Key, config: HeadlineConfig) -> float | None:
    """:func:`match_score` of two keys given as :class:`_Key`."""
    if ka.key == kb.key:
        return 1.0
    words_a, words_b = ka.words, kb.words
    only_a, only_b = words_a - words_b, words_b - words_a
    if min(len(words_a), len(words_b)) < 2 or ka.digits != kb.digits:
        return None
    a, b = ka.grams, kb.grams
    shared = len(a & b)
    score = shared / (len(a) + len(b) - shared)  # len(a | b), without building the union
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
    bands: list[tuple[int, int]] | np.ndarray = field(default_factory=list)  # (band key, variant id) rows
    occurrences: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    new_clusters: int = 0


def page_headlines(ad: dict[str, Any] | ItemAdapter) -> list[tuple[str, str, int, str | None]]:
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


#: One headline of a page, ready for clustering: (text, key, variant id, key id,
#: kind, pos, url it points to, page url, LSH band keys of the key or None).
HeadlinePrep = tuple[str, str, int, int, str, int, "str | None", str, "list[int] | None"]


def prepare_headlines(hasher: MinHasher | None, pages: list[Any]) -> list[list[HeadlinePrep]]:
    """The per-headline work of clustering, for each page (item or dict) of *pages* (picklable).

    Cleaning, tag stripping, normalisation and ids, and, given the headline
    *hasher* (``HeadlineClusterer.hasher``), the n-gram band keys: all that
    does not need the database, so the importer runs it in worker processes.
    Headlines with an empty key are left out.
    """
    out: list[list[HeadlinePrep]] = []
    found: list[tuple[list[Any], str]] = []
    seen: list[tuple[list[Any], str, str, int, str | None, str]] = []  # (page, text, kind, pos, url, page url)
    stripped: list[str] = []
    for ad in pages:
        if not isinstance(ad, dict | ItemAdapter):
            ad = ItemAdapter(ad)
        page: list[Any] = []
        for raw, kind, pos, url in page_headlines(ad):
            text = clean_text(raw).replace("\n", " ")
            seen.append((page, text, kind, pos, url, ad["url"]))
            stripped.append(_strip_tags(clean_text(text)))
        out.append(page)  # type: ignore[arg-type]
    # headline_key of each: the matching forms of the whole batch at once
    for (page, text, kind, pos, url, page_url), (key, _cps) in zip(seen, matching_codepoints_many(stripped)):
        if key:
            page.append([text, key, variant_id(text), variant_id(key), kind, pos, url, page_url, None])
            found.append((page[-1], key))
    if hasher is not None and found:
        sigs = hasher.signatures(hasher.shingles_many([f" {key} " for _h, key in found]))
        for (h, _key), ks in zip(found, hasher.band_keys_many(sigs).tolist()):
            h[8] = ks
    return [[tuple(h) for h in page] for page in out]  # type: ignore[misc]


class HeadlineClusterer:
    """Assigns every headline seen to a cluster, through the database index.

    Args:
        config: matching parameters.
        stats: a stats collector (``dedup/headlines_*`` counters).
    """

    def __init__(self, config: HeadlineConfig, stats: StatsLike) -> None:
        self.config = config
        self.stats = stats
        self.hasher = MinHasher(config.minhash_config())
        self._known: dict[int, str] = {}  # variant id -> cluster id (a bounded cache)

    def prepare(self, pages: list[Any], *, bands: bool = False) -> list[list[HeadlinePrep]]:
        """:func:`prepare_headlines` with this clusterer's configuration."""
        return prepare_headlines(self.hasher if bands else None, pages)

    def unknown_band_keys(self, db: Database, prepared: list[list[HeadlinePrep]]) -> list[int]:
        """The LSH band keys of the spellings of *prepared* not stored yet: what a batch locks.

        Learns the stored ones (one query, before any lock): a stored spelling keeps
        its cluster, so its clustering needs no lock.
        """
        seen = [h for page in prepared for h in page]
        missing = [h[2] for h in seen if h[2] not in self._known]
        if missing:
            with db.session() as s:
                for vid, (cid, _text, _key) in store.variants_by_id(s, missing).items():
                    self._known[vid] = cid
        return [k for h in seen if h[2] not in self._known and h[8] for k in h[8]]

    def resolve(self, s: Session, ads: list[Any], prepared: list[list[HeadlinePrep]] | None = None) -> HeadlineRows:
        """Cluster the headlines of a batch of items; returns the rows to write.

        A spelling seen before keeps its cluster; a new spelling with a known
        key joins that key's cluster (exact merge); a new key is matched by
        n-gram LSH candidates verified with :func:`match_score`, or founds a cluster.

        Args:
            prepared: :func:`prepare_headlines` of *ads* (the importer's worker
                processes compute it), else computed here.
        """
        if prepared is None:
            prepared = self.prepare(ads)
        rows, now = HeadlineRows(), utcnow()
        seen = [h for page in prepared for h in page]
        if len(self._known) > 200_000:
            self._known.clear()
        known = self._known
        missing = [h[2] for h in seen if h[2] not in known]
        if missing:
            for vid, (cid, _text, _key) in store.variants_by_id(s, missing).items():
                known[vid] = cid
        new: dict[int, HeadlinePrep] = {}
        for h in seen:
            if h[2] not in known and h[2] not in new:
                new[h[2]] = h
        by_key = store.clusters_by_key(s, [h[3] for h in new.values()]) if new else {}
        fresh: dict[int, HeadlinePrep] = {}  # new variants with a new key, first spelling per key
        for vid, h in new.items():
            kid = h[3]
            if kid in by_key:
                self._add(rows, vid, h[0], h[1], by_key[kid], now)
                self.stats.inc_value(st.DEDUP_HEADLINES_EXACT)
            elif kid not in fresh:
                fresh[kid] = h
        key_cluster = self._cluster_new(s, fresh, rows, now)
        for vid, h in new.items():  # other spellings of a key that was new in this batch
            if vid not in known:
                self._add(rows, vid, h[0], h[1], key_cluster[h[3]], now)
        rows.occurrences.extend(
            {"page_url": h[7], "kind": h[4], "pos": h[5], "variant": h[2], "url": h[6], "created_at": now} for h in seen
        )
        self.stats.inc_value(st.DEDUP_HEADLINES_SEEN, len(seen))
        self.stats.inc_value(st.DEDUP_HEADLINES_MERGED, len(seen) - rows.new_clusters)
        return rows

    def _add(self, rows: HeadlineRows, vid: int, text: str, key: str, cid: str, now: datetime,
             key_id: int | None = None) -> None:
        self._known[vid] = cid
        rows.variants.append({
            "variant": vid, "key_id": variant_id(key) if key_id is None else key_id, "cluster_id": cid, "text": text,
            "key": key, "created_at": now,
        })

    def _cluster_new(self, s: Session, new: dict[int, HeadlinePrep], rows: HeadlineRows, now: datetime) -> dict[int, str]:
        """Cluster spellings whose keys are new: *new* maps key id -> its first spelling; returns key id -> cluster."""
        out: dict[int, str] = {}
        if not new:
            return out
        kids = list(new)
        todo = [k for k in kids if new[k][8] is None]  # band keys not computed by a worker
        if todo:
            sigs = self.hasher.signatures(self.hasher.shingles_many([f" {new[k][1]} " for k in todo]))
            new.update({k: (*new[k][:8], ks) for k, ks in zip(todo, self.hasher.band_keys_many(sigs).tolist())})
        keys = [new[k][8] for k in kids]
        counts = [len(ks) for ks in keys]
        flat = np.fromiter(chain.from_iterable(keys), dtype=np.int64, count=sum(counts))
        by_band = store.headline_band_candidates(s, flat)
        info = store.variants_by_id(s, sorted({v for members in by_band.values() for v in members})) if by_band else {}
        # Which spellings have a candidate at all, found for the whole batch with numpy (most
        # have none): a band key of the index, or one of an earlier spelling of the batch.
        owner = np.repeat(np.arange(len(kids)), counts)
        indexed: set[int] = set()
        if by_band:
            found = np.sort(np.fromiter(by_band, dtype=np.int64, count=len(by_band)))
            indexed = set(owner[found[np.searchsorted(found, flat).clip(max=found.size - 1)] == flat].tolist())
        earlier = _earlier_sharing(flat, owner)
        vids = [new[kid][2] for kid in kids]
        n = self.config.ngram
        parsed: dict[str, _Key] = {}  # key -> its parts, for the batch
        for i, kid in enumerate(kids):
            text, key, vid = new[kid][:3]
            cands: set[int] = set()
            if i in indexed:
                for k in keys[i]:
                    if k in by_band:
                        cands |= by_band[k]
            if i in earlier:
                cands.update(vids[j] for j in earlier[i])
            best = None
            if cands:
                mine = parsed.get(key) or parsed.setdefault(key, _Key(key, n))
            for cand in sorted(cands):
                cid, ctext, ckey = info[cand]
                score = _match(mine, parsed.get(ckey) or parsed.setdefault(ckey, _Key(ckey, n)), self.config)
                if score is not None and (best is None or score > best[3]):
                    best = (cand, cid, ctext, score)
            if best is None:
                cid = "h" + _hex(key)
                rows.new_clusters += 1
            else:
                cid = best[1]
                self.stats.inc_value(st.DEDUP_HEADLINES_NGRAM)
                rows.merges.append({
                    "kind": "headline", "member": text[:2048], "matched": best[2][:2048], "cluster_id": cid,
                    "method": "ngram", "score": round(best[3], 4), "config": self.config.fingerprint[:128],
                    "created_at": now,
                })
            info[vid] = (cid, text, key)
            self._add(rows, vid, text, key, cid, now, key_id=kid)
            out[kid] = cid
        # (band key, variant) of every new spelling, as one array (no tuple per row)
        pairs = np.column_stack((flat, np.array(vids, dtype=np.int64)[owner]))
        rows.bands = pairs
        return out

    def write(self, s: Session, rows: HeadlineRows) -> None:
        store.write_headlines(s, rows.variants, rows.bands, rows.occurrences, rows.merges)


def _earlier_sharing(keys: np.ndarray, owner: np.ndarray) -> dict[int, set[int]]:
    """owner -> the smaller owners holding one of its keys (*owner*: the owner of each of *keys*)."""
    order = np.lexsort((owner, keys))
    keys, owner = keys[order], owner[order]
    same = keys[1:] == keys[:-1]
    out: dict[int, set[int]] = {}
    if not same.any():
        return out
    starts = np.flatnonzero(np.concatenate(([True], ~same)))  # first place of each key
    first = starts[np.cumsum(np.concatenate(([True], ~same))) - 1]
    owners = owner.tolist()
    for p in (np.flatnonzero(same) + 1).tolist():
        before = {o for o in owners[first[p]:p] if o != owners[p]}
        if before:
            out.setdefault(owners[p], set()).update(before)
    return out


def _hex(key: str) -> str:
    return xxhash.xxh64_hexdigest(key.encode("utf-8"))
