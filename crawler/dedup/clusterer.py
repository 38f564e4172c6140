"""The article de-duplicator: assigns every article copy to a near-duplicate cluster.

Stages, in order: canonical URL (already indexed), exact hash of the
normalised body, MinHash LSH candidates verified by exact Jaccard. Copies are
never dropped: the item gets ``cluster_id``, ``content_hash``, ``signature``
and, when merged, ``dup_of_url``/``dup_method``/``dup_score``; ArticleWriter
writes it (``pipelines/dedup.py`` adapts this class to Scrapy). Headlines (title and related lists) are clustered too.

Crash safety: the index rows of a batch are committed *before* its items are
returned, so a stored article always has its index rows; index rows whose
article was never stored are ignored as dangling candidates. Items of this
run that ArticleWriter may not have flushed yet are kept in memory (bounded).

Settings (defaults in parentheses): ``DEDUP_ENABLED`` (True),
``DEDUP_SHINGLE`` ("word"), ``DEDUP_SHINGLE_SIZE`` (3), ``DEDUP_NUM_PERM`` (128),
``DEDUP_BANDS`` (32), ``DEDUP_ROWS`` (4), ``DEDUP_SEED`` (1),
``DEDUP_THRESHOLD`` (0.4), ``DEDUP_MIN_SHINGLES`` (5), ``DEDUP_PENDING_MAX``
(5000), ``DEDUP_HEADLINES`` (True), ``DEDUP_HEADLINE_*`` (see
:class:`crawler.dedup.headlines.HeadlineConfig`), ``DEDUP_ADOPT_CONFIG`` (False),
``DEDUP_LOCKS`` (True), ``DEDUP_LOCK_MAX_KEYS`` (512), ``DEDUP_LOCK_MAX_HELD`` (4): the band
locks that make concurrent writers (a shared crawl) cluster as one process (:mod:`crawler.dedup.locks`).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from itertools import chain
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import xxhash
from itemadapter import ItemAdapter

from crawler.dedup import index as store
from crawler.dedup.minhash import (
    DedupConfig, MinHasher, StoryFacts, content_hash, facts_conflict, jaccard, shingles_and_facts,
)
from crawler.dedup.headlines import HeadlineClusterer, HeadlineConfig, HeadlinePrep
from crawler.dedup.locks import BandLocks, HeldLocks, NoLocks
from crawler.storage.models import utcnow
from crawler.text import matching_codepoints, matching_codepoints_many
from crawler import stats as st

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings
    from sqlalchemy.orm import Session

    from crawler.stats import StatsLike

    from crawler.storage.database import Database

logger = logging.getLogger(__name__)


@dataclass
class _Doc:
    """What the pipeline remembers of a copy of this run until it is surely stored."""

    url: str
    cluster_id: str
    content_hash: str
    shingles: np.ndarray
    facts: StoryFacts
    keys: list[int] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)  # its keys in Deduplicator._by_band


Prepared = tuple[str, np.ndarray, StoryFacts]
#: :data:`Prepared` plus the encoded MinHash signature (:meth:`MinHasher.encode`) and
#: the LSH band keys (empty below ``min_shingles``).
PreparedFull = tuple[str, np.ndarray, StoryFacts, bytes, list[int]]


def prepare(
    hasher: MinHasher, text: str, title: str = "", matching: tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]] | None = None,
) -> Prepared:
    """Content hash and shingles of a body, number contexts of body and title (picklable).

    Args:
        matching: :func:`crawler.text.matching_codepoints` of *text* and of *title*, when the caller has them.
    """
    body, heading = matching if matching is not None else (matching_codepoints(text), None)
    (shingles,), (facts,) = shingles_and_facts(hasher, [body], [title], [heading])
    return content_hash(body[0]), shingles, facts


def prepare_many(
    hasher: MinHasher, texts: list[str], titles: list[str] | None = None,
    matching: list[tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]]] | None = None,
) -> list[PreparedFull]:
    """:func:`prepare` of many bodies (and titles) plus their signatures and band keys (picklable).

    All the per-document CPU work of de-duplication: the importer runs it in
    worker processes, so that the main process only queries and writes.
    *matching*: the :func:`prepare` argument of each, when the caller has them.
    """
    titles = titles or [""] * len(texts)
    bodies = [m[0] for m in matching] if matching is not None else matching_codepoints_many(texts)
    shingles, facts = shingles_and_facts(
        hasher, bodies, titles, [m[1] for m in matching] if matching is not None else [None] * len(texts))
    sigs = hasher.signatures(shingles)
    keys = hasher.band_keys_many(sigs).tolist()
    least = hasher.config.min_shingles
    return [
        (content_hash(norm), sh, num, sig, ks if sh.size >= least else [])
        for (norm, _cps), sh, num, sig, ks in zip(bodies, shingles, facts, hasher.encode_many(sigs), keys)
    ]


def cluster_id_for(url: str) -> str:
    """The stable cluster id founded by the copy at *url*."""
    return "a" + xxhash.xxh64_hexdigest(url.encode("utf-8"))


class Deduplicator:
    """Near-duplicate merging of articles and headlines.

    Args:
        db: the opened database (index tables live there).
        stats: a Scrapy stats collector (or :class:`crawler.stats.CounterStats`).
        config: article MinHash configuration.
        headline_config: headline matching configuration, or None to skip headlines.
        pending_max: copies of this run kept in memory for matching before they are stored.
        adopt_config: accept a changed configuration (after a re-index) instead of failing.
        max_members: members of a cluster a joining copy is compared with (the earliest).
        member_threshold: the least Jaccard between a joining copy and every member.
        names_below: under this Jaccard, a candidate whose headline names other
            things than the copy's (:func:`~crawler.dedup.minhash.facts_conflict`)
            is another story from the same template (checked against the best
            candidates; the other members are checked for numbers only).

    A copy joins a cluster when its best candidate is within ``config.threshold``
    *and* it is within ``member_threshold`` of every member checked (complete link),
    not of one member alone: a chain of close texts (daily bulletins from one
    template, each a near-copy of the day before) cannot grow one cluster whose first
    and last members are different stories.
    """

    def __init__(
        self,
        db: Database,
        stats: StatsLike,
        config: DedupConfig,
        headline_config: HeadlineConfig | None = None,
        *,
        pending_max: int = 5000,
        adopt_config: bool = False,
        max_members: int = 100,
        member_threshold: float = 0.3,
        names_below: float = 0.7,
    ) -> None:
        self.db = db
        self.stats = stats
        self.config = config
        self.hasher = MinHasher(config)
        self.headlines = HeadlineClusterer(headline_config, stats) if headline_config else None
        self.pending_max = pending_max
        self.adopt_config = adopt_config
        self._pending: OrderedDict[str, _Doc] = OrderedDict()
        self._by_hash: dict[str, str] = {}
        # band key -> URL(s) of pending copies, for the keys the stored index may lack. The
        # index rows of a batch are committed before the next batch, so the candidate query
        # finds every pending copy of an earlier batch (by_band): listed here are the keys
        # the batch's copies share with each other, and every key of a copy whose batch
        # failed before its index rows were written (_unindexed).
        self._by_band: dict[int, str | set[str]] = {}
        self._unindexed: list[_Doc] = []
        self._by_cluster: dict[str, set[str]] = {}  # cluster id -> URLs of pending copies
        self.max_members = max(1, max_members)
        if not 0.0 <= member_threshold <= config.threshold:
            raise ValueError(f"member_threshold must be within [0, {config.threshold}], got {member_threshold}")
        self.member_threshold = member_threshold
        self.names_below = names_below
        self.locks: BandLocks | None = None  # enable_locks(); SQLite: none

    @classmethod
    def build(cls, settings: BaseSettings, stats: StatsLike, db: Database) -> Self:
        """Build from settings outside Scrapy (``import``)."""
        return cls(
            db,
            stats,
            DedupConfig.from_settings(settings),
            HeadlineConfig.from_settings(settings) if settings.getbool("DEDUP_HEADLINES") else None,
            pending_max=settings.getint("DEDUP_PENDING_MAX"),
            adopt_config=settings.getbool("DEDUP_ADOPT_CONFIG"),
            max_members=settings.getint("DEDUP_MAX_MEMBERS_CHECKED"),
            member_threshold=settings.getfloat("DEDUP_MEMBER_THRESHOLD"),
            names_below=settings.getfloat("DEDUP_NAMES_BELOW"),
        )

    def open(self) -> None:
        """Check (or record) the configuration of the indexes: never mix signatures."""
        store.check_config(self.db, "articles", self.config.fingerprint, adopt=self.adopt_config)
        if self.headlines:
            store.check_config(self.db, "headlines", self.headlines.config.fingerprint, adopt=self.adopt_config)

    def close(self) -> None:
        self._pending.clear()
        self._by_hash.clear()
        self._by_band.clear()
        self._unindexed.clear()
        self._by_cluster.clear()

    # -- the work ---------------------------------------------------------------
    def process_batch(
        self, items: list[Any], prepared: list[PreparedFull] | None = None,
        headlines: list[list[HeadlinePrep]] | None = None,
    ) -> list[Any]:
        """Cluster *items* (in order) and commit their index rows; returns *items*.

        Args:
            items: Scrapy items, or plain dicts (the importer's; used as they are).
            prepared: :func:`prepare_many` of the items' texts, when computed
                elsewhere (the importer's worker processes) with this configuration.
            headlines: :func:`crawler.dedup.headlines.prepare_headlines` of the items,
                likewise (computed here when None).
        """
        items, held = self.process_batch_held(items, prepared, headlines)
        held.release()
        return items

    def enable_locks(self, settings: BaseSettings) -> None:
        """Take band locks in :meth:`process_batch_held` (PostgreSQL, ``DEDUP_LOCKS``; a no-op on SQLite)."""
        if settings.getbool("DEDUP_LOCKS"):
            self.locks = BandLocks.for_database(self.db, max_keys=settings.getint("DEDUP_LOCK_MAX_KEYS"),
                                                max_held=settings.getint("DEDUP_LOCK_MAX_HELD"))

    def process_batch_held(
        self, items: list[Any], prepared: list[PreparedFull] | None = None,
        headlines: list[list[HeadlinePrep]] | None = None,
    ) -> tuple[list[Any], HeldLocks]:
        """:meth:`process_batch`, holding the batch's band locks (:mod:`crawler.dedup.locks`) after it.

        The caller releases them once the batch's articles are stored (or will
        not be): then another writer's candidate query sees them, stored.
        """
        ads = [it if type(it) is dict else ItemAdapter(it) for it in items]
        if prepared is None:
            prepared = prepare_many(self.hasher, [a.get("text") or "" for a in ads], [a.get("title") or "" for a in ads])
        if self.locks is None:
            return self._cluster(items, ads, prepared, headlines, None), NoLocks()
        lock_keys = [k for p in prepared for k in p[4]]
        if self.headlines:
            if headlines is None:
                headlines = self.headlines.prepare(ads, bands=True)
            lock_keys += self.headlines.unknown_band_keys(self.db, headlines)
        start = time.monotonic()
        held = self.locks.acquire(lock_keys)
        self.stats.inc_value(st.DEDUP_LOCKED)
        self.stats.inc_value(st.DEDUP_LOCK_WAIT_MS, round((time.monotonic() - start) * 1000))
        if held.whole_index:
            self.stats.inc_value(st.DEDUP_LOCKED_INDEX)
        try:
            return self._cluster(items, ads, prepared, headlines, held), held
        except BaseException:
            held.release()
            raise

    def _cluster(
        self, items: list[Any], ads: list[Any], prepared: list[PreparedFull],
        headlines: list[list[HeadlinePrep]] | None, held: HeldLocks | None,
    ) -> list[Any]:
        urls = [a["url"] for a in ads]
        keys = [p[4] for p in prepared]
        flat = np.fromiter(chain.from_iterable(keys), dtype=np.int64, count=sum(map(len, keys)))
        batch: list[_Doc] = []  # this batch's copies, remembered: their index rows are written last
        try:
            with self.db.session() as s:
                by_url = store.docs_by_url(s, urls)
                by_hash = store.docs_by_hash(s, [p[0] for p in prepared])
                by_band = store.band_candidates(s, flat)
                texts = self._candidate_texts(s, urls, by_band)
                head_rows = self.headlines.resolve(s, ads, headlines) if self.headlines else None
                docs, now = [], utcnow()
                members = _StoredMembers(self, s, texts, held)
                may_match, shared = self._screen(keys, flat, by_band)
                for i, (ad, url, (h, sh, num, sig, ks)) in enumerate(zip(ads, urls, prepared)):
                    batch.append(doc := _Doc(url, "", h, sh, num, ks, shared.get(i, [])))
                    cid = self._assign(ad, doc, by_url, by_hash, by_band, texts, members, i in may_match)
                    ad["content_hash"], ad["signature"] = h, sig
                    docs.append({"doc": store.doc_key(url), "url": url, "content_hash": h, "cluster_id": cid,
                                 "created_at": now})
            if held is not None:  # joined or founded: members in flight until stored
                held.lock_clusters([d["cluster_id"] for d in docs])
            with self.db.begin() as s:
                store.write_docs(s, docs, keys)
                if head_rows is not None:
                    self.headlines.write(s, head_rows)
        except BaseException:
            self._unindexed.extend(batch)  # pending without index rows: matched in memory by every key
            raise
        finally:
            self._relist(batch)
        return items

    def prepare(self, text: str, title: str = "") -> Prepared:
        """Content hash and shingles of a body, number contexts of body and title."""
        return prepare(self.hasher, text, title)

    def _screen(
        self, keys: list[list[int]], flat: np.ndarray, by_band: dict[int, set[str]],
    ) -> tuple[set[int], dict[int, list[int]]]:
        """Which copies of a batch may have an LSH candidate, and the keys they share with each other.

        Worked out for the whole batch with numpy: most copies have no candidate, and
        :meth:`_near` would look up each of their band keys to find out. A candidate holds
        one of the copy's *keys* (*flat*: all of them, as one array): a copy of the stored
        index, pending ones of earlier batches included (*by_band*), a pending copy without
        index rows (``_by_band``), or another copy of the batch (a key found twice in it).

        Returns:
            the places of the copies that may have a candidate, and place -> the keys
            that copy shares with other copies of the batch (listed in ``_by_band``).
        """
        if not flat.size:
            return set(), {}
        order = np.argsort(flat)
        ordered = flat[order]
        same = ordered[1:] == ordered[:-1]
        shared = np.zeros(flat.size, dtype=bool)  # in *ordered*: a key found twice in the batch
        shared[1:] = same
        shared[:-1] |= same
        known = set(by_band)
        if self._by_band:
            known.update(self._by_band.keys() & chain.from_iterable(keys))
        hit = shared.copy()
        if known:
            held = np.sort(np.fromiter(known, dtype=np.int64, count=len(known)))
            hit |= held[np.searchsorted(held, ordered).clip(max=held.size - 1)] == ordered
        counts = [len(ks) for ks in keys]
        owner = np.repeat(np.arange(len(keys)), counts)
        found = set(owner[order[hit]].tolist())
        if len(found) < len(counts) - counts.count(0):  # a copy skipped finds no candidates, as in _near
            self.stats.inc_value(st.DEDUP_CANDIDATES, 0)
        at = order[shared]
        listed: dict[int, list[int]] = {}
        for i, k in zip(owner[at].tolist(), flat[at].tolist()):
            listed.setdefault(i, []).append(k)
        return found, listed

    def _candidate_texts(
        self, s: Session, batch_urls: list[str], by_band: dict[int, set[str]]
    ) -> dict[str, tuple[np.ndarray, StoryFacts, str]]:
        """Shingles and cluster of the stored candidates of the batch (dangling ones absent)."""
        if not by_band:
            return {}
        urls = set().union(*by_band.values()) - self._pending.keys()  # by_band: the batch's keys only
        urls.difference_update(batch_urls)
        if not urls:
            return {}
        found = store.stored_texts(s, sorted(urls))
        out = {}
        for u, (text, title, cid) in found.items():
            _h, sh, num = prepare(self.hasher, text, title)
            out[u] = (sh, num, cid or cluster_id_for(u))
        return out

    def _assign(
        self, ad: dict[str, Any] | ItemAdapter, doc: _Doc, by_url: dict, by_hash: dict, by_band: dict, texts: dict,
        members: _StoredMembers, may_match: bool = True,
    ) -> str:
        """Set the item's cluster and duplicate fields; returns its cluster id.

        Args:
            may_match: whether the copy may have an LSH candidate (:meth:`_screen`).
        """
        url = doc.url
        ad["dup_of_url"] = ad["dup_method"] = ad["dup_score"] = None
        known = self._pending.get(url)
        cid = known.cluster_id if known else (by_url[url][1] if url in by_url else None)
        if cid is not None:  # the same canonical URL again: keep its cluster
            self.stats.inc_value(st.DEDUP_SAME_URL)
        elif (match := self._exact(url, doc.content_hash, by_hash)) is not None:
            self.stats.inc_value(st.DEDUP_EXACT)
            ad["dup_of_url"], ad["dup_method"], ad["dup_score"] = match[0], "exact", 1.0
            cid = match[1]
        elif doc.keys and may_match and (near := self._near(doc, by_band, texts, members)) is not None:
            self.stats.inc_value(st.DEDUP_NEAR_DUPLICATE)
            ad["dup_of_url"], ad["dup_method"], ad["dup_score"] = near[0], "minhash", round(near[2], 4)
            cid = near[1]
        else:
            self.stats.inc_value(st.DEDUP_UNIQUE)
            cid = cluster_id_for(url)
        ad["cluster_id"] = doc.cluster_id = cid
        self._remember(doc)
        return cid

    def _exact(self, url: str, h: str, by_hash: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
        other = self._by_hash.get(h)
        if other is not None and other != url and other in self._pending:
            return other, self._pending[other].cluster_id
        return by_hash.get(h)

    def _near(self, doc: _Doc, by_band: dict, texts: dict, stored: _StoredMembers) -> tuple[str, str, float] | None:
        """The best verified candidate whose whole cluster *doc* fits: (url, cluster id, Jaccard), or None."""
        cands: set[str] = set()
        mine = self._by_band
        for k in doc.keys:
            if k in by_band:
                cands |= by_band[k]
            members = mine.get(k)
            if members is not None:
                if type(members) is str:
                    cands.add(members)
                else:
                    cands |= members
        cands.discard(doc.url)
        self.stats.inc_value(st.DEDUP_CANDIDATES, len(cands))
        best: dict[str, tuple[str, float]] = {}  # cluster id -> its best verified member and score
        for cand in sorted(cands):
            pend = self._pending.get(cand)
            if pend is not None:
                other, facts, cid = pend.shingles, pend.facts, pend.cluster_id
            elif cand in texts:
                other, facts, cid = texts[cand]
            else:  # index rows of a copy that was never stored
                self.stats.inc_value(st.DEDUP_DANGLING)
                continue
            score = jaccard(doc.shingles, other)
            if score < self.config.threshold:
                self.stats.inc_value(st.DEDUP_REJECTED)
            elif (why := facts_conflict(doc.facts, facts, names=score < self.names_below)) is not None:
                self.stats.inc_value(st.dedup_rejected(why))
            elif cid not in best or score > best[cid][1]:
                best[cid] = (cand, score)
        for cid, (cand, score) in sorted(best.items(), key=lambda kv: (-kv[1][1], kv[0])):
            if self._fits(doc, cid, stored):
                return cand, cid, score
            self.stats.inc_value(st.dedup_rejected("cluster"))
        return None

    def cluster_members(self, cid: str, stored: _StoredMembers) -> dict[str, tuple[np.ndarray, StoryFacts]]:
        """url -> (shingles, number contexts) of the copies of cluster *cid* known now."""
        pending = self._by_cluster.get(cid, ())
        out = stored.get(cid, pending)
        for url in pending:
            pend = self._pending[url]
            out[url] = (pend.shingles, pend.facts)
        return out

    def _fits(self, doc: _Doc, cid: str, stored: _StoredMembers) -> bool:
        """Whether *doc* is within ``member_threshold`` of every member of cluster *cid*, with no number conflict."""
        threshold = self.member_threshold
        for url, (shingles, facts) in self.cluster_members(cid, stored).items():
            if url == doc.url:
                continue
            score = jaccard(doc.shingles, shingles)
            if score < threshold or facts_conflict(doc.facts, facts, names=False) is not None:
                return False
        return True

    def _remember(self, doc: _Doc) -> None:
        old = self._pending.pop(doc.url, None)
        if old is not None:
            self._forget(old)
        self._pending[doc.url] = doc
        self._by_hash.setdefault(doc.content_hash, doc.url)
        self._by_cluster.setdefault(doc.cluster_id, set()).add(doc.url)
        self._list(doc)
        while len(self._pending) > self.pending_max:
            self._forget(self._pending.popitem(last=False)[1])

    def _list(self, doc: _Doc) -> None:
        """Enter ``doc.listed`` in ``_by_band``."""
        # band key -> the URL of the one copy holding it (nearly every key), or a set of
        # URLs: no set per key and copy.
        mine, url = self._by_band, doc.url
        for k in doc.listed:
            members = mine.setdefault(k, url)
            if members is not url and members != url:
                if type(members) is str:
                    mine[k] = {members, url}
                else:
                    members.add(url)

    def _relist(self, batch: list[_Doc]) -> None:
        """After a batch (its index rows written, or not): ``_by_band`` lists the pending copies without index rows."""
        for doc in batch:
            doc.listed = []
        self._by_band.clear()
        if self._unindexed:
            self._unindexed = [d for d in self._unindexed if self._pending.get(d.url) is d]
            for doc in self._unindexed:
                doc.listed = doc.keys
                self._list(doc)

    def _forget(self, doc: _Doc) -> None:
        if self._by_hash.get(doc.content_hash) == doc.url:
            del self._by_hash[doc.content_hash]
        pending = self._by_cluster.get(doc.cluster_id)
        if pending is not None:
            pending.discard(doc.url)
            if not pending:
                del self._by_cluster[doc.cluster_id]
        mine, url = self._by_band, doc.url
        for k in doc.listed:
            members = mine.get(k)
            if members is None:
                continue
            if type(members) is str:
                if members == url:
                    del mine[k]
            else:
                members.discard(url)
                if len(members) == 1:
                    mine[k] = members.pop()


class _StoredMembers:
    """The stored copies of clusters a batch's copies may join, read once per cluster and batch.

    A member that is also a candidate of the batch is not prepared again: its shingles
    and facts are those of ``texts`` (:meth:`Deduplicator._candidate_texts`); nor is a
    member kept in memory (the caller's *known*): the de-duplicator has its shingles.
    """

    def __init__(self, dedup: Deduplicator, session: Any, texts: dict[str, tuple[np.ndarray, StoryFacts, str]],
                 held: HeldLocks | None = None) -> None:
        self.dedup = dedup
        self.session = session
        self.texts = texts
        self.held = held
        self._rows: dict[str, dict[str, tuple[str, str]]] = {}  # cluster id -> url -> (text, title)
        self._prepared: dict[str, tuple[np.ndarray, StoryFacts]] = {}  # url -> (shingles, story facts)

    def get(self, cid: str, known: Any = ()) -> dict[str, tuple[np.ndarray, StoryFacts]]:
        """url -> (shingles, story facts) of the earliest stored members of *cid*, but those in *known*.

        A member in *known* keeps its place in the dict with the value None: the caller fills it in.
        """
        rows = self._rows.get(cid)
        if rows is None:
            if self.held is not None:  # members another worker is still writing: wait until stored
                self.held.wait_cluster(cid)
            rows = self._rows[cid] = store.cluster_texts(self.session, cid, self.dedup.max_members)
        out: dict[str, Any] = {}
        prepared = self._prepared
        for url, (text, title) in rows.items():
            if url in known:
                out[url] = None
                continue
            found = prepared.get(url)
            if found is None:
                have = self.texts.get(url)
                found = prepared[url] = have[:2] if have is not None else prepare(self.dedup.hasher, text, title)[1:]
            out[url] = found
        return out
