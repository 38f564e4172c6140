"""Explain and undo article merges: ``python -m crawler why`` / ``unmerge``.

:func:`explain` tells why two stored copies share (or do not share) a
cluster: the chain of merge records that links them (method, score, the
configuration, when), the Jaccard similarity estimated from their stored
signatures, and the exact Jaccard of their shingle sets, verified again from
the stored texts. :func:`unmerge` moves one copy out of its cluster into a
cluster of its own and records the undo in ``merges`` (method ``undo``); the
index row of the copy carries the new cluster, so a later crawl or import of
the same URL keeps it apart.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any

import xxhash
from sqlalchemy import or_, select, update

from crawler.dedup.minhash import (
    DedupConfig, MinHasher, SignatureMismatch, StoryFacts, facts_conflict, jaccard, number_conflicts, story_facts, word_spans,
)
from crawler.dedup.index import doc_key
from crawler.storage.models import DedupConfigRow, DedupDoc
from crawler.storage.database import Database
from crawler.storage.models import Article, MergeRecord, utcnow
from crawler.text import matching_codepoints, normalize_for_matching
from crawler.urls import canonical_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["UnknownArticle", "explain", "unmerge", "unmerged_cluster_id"]

logger = logging.getLogger(__name__)


class UnknownArticle(LookupError):
    """No stored article has this URL (the message names it)."""


def unmerged_cluster_id(url: str) -> str:
    """The stable cluster id of a copy moved out of its cluster by :func:`unmerge`."""
    return "u" + xxhash.xxh64_hexdigest(url.encode("utf-8"))


def _article(s: Session, url: str) -> Article:
    for candidate in dict.fromkeys((url, url.strip(), canonical_url(url))):
        row = s.scalars(select(Article).where(Article.url == candidate)).first()
        if row is not None:
            return row
    raise UnknownArticle(f"no stored article has the URL {url}")


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


def _merge_line(m: MergeRecord) -> str:
    score = "" if m.score is None else f", score {m.score:.4f}"
    config = f", config {m.config}" if m.config else ""
    if m.method == "undo":
        return f"  {_when(m.created_at)}: UNMERGED {m.member} (now cluster {m.cluster_id}; it had joined {m.matched}){config}"
    return f"  {_when(m.created_at)}: {m.member} joined {m.matched} by {m.method}{score} (cluster {m.cluster_id}){config}"


def _chain(merges: list[MergeRecord], a: str, b: str) -> list[MergeRecord] | None:
    """The merge records linking *a* and *b* (a path in the merge graph), or None."""
    undone = {m.member for m in merges if m.method == "undo"}
    edges: dict[str, list[tuple[str, MergeRecord]]] = {}
    for m in merges:
        if m.method == "undo" or m.member in undone:
            continue
        edges.setdefault(m.member, []).append((m.matched, m))
        edges.setdefault(m.matched, []).append((m.member, m))
    seen: dict[str, tuple[str, MergeRecord] | None] = {a: None}
    queue = deque([a])
    while queue:
        node = queue.popleft()
        if node == b:
            path = []
            while seen[node] is not None:
                prev, rec = seen[node]  # type: ignore[misc]
                path.append(rec)
                node = prev
            return path[::-1]
        for nxt, rec in edges.get(node, ()):
            if nxt not in seen:
                seen[nxt] = (node, rec)
                queue.append(nxt)
    return None


def explain(
    db: Database, url_a: str, url_b: str, config: DedupConfig | None = None, member_threshold: float = 0.3,
    max_members: int = 100, cluster_lines: dict[str, str] | None = None,
) -> str:
    """Why the stored copies at *url_a* and *url_b* are (or are not) one cluster.

    Args:
        config: the dedup configuration of the crawl (default: the default
            :class:`~crawler.dedup.minhash.DedupConfig`); signatures made with another
            configuration are reported as such, never compared.
        member_threshold: ``DEDUP_MEMBER_THRESHOLD``, the least Jaccard a copy
            needs with every member of a cluster to join it (shown with the members).
        max_members: how many members of the cluster are compared (the earliest).
        cluster_lines: the cluster lines already worked out, by cluster id (read and filled in):
            a caller explaining several copies of one cluster compares its members once.

    Raises:
        UnknownArticle: one of the URLs is not stored.
    """
    config = config or DedupConfig()
    hasher = MinHasher(config)
    with db.session() as s:
        a, b = _article(s, url_a), _article(s, url_b)
        clusters = {c for c in (a.cluster_id, b.cluster_id) if c}
        merges = list(s.scalars(
            select(MergeRecord).where(
                MergeRecord.kind == "article",
                or_(MergeRecord.cluster_id.in_(clusters), MergeRecord.member.in_([a.url, b.url]),
                    MergeRecord.matched.in_([a.url, b.url])),
            ).order_by(MergeRecord.created_at, MergeRecord.id)
        ))
        stored_config = s.get(DedupConfigRow, "articles")
        same = bool(a.cluster_id) and a.cluster_id == b.cluster_id
        known = cluster_lines.get(a.cluster_id) if cluster_lines is not None and same else None
        members = list(s.execute(
            select(Article.url, Article.text).where(Article.cluster_id == a.cluster_id).order_by(Article.id)
            .limit(max_members)
        )) if a.cluster_id and known is None else []
    lines = [
        f"A: {a.url} (site {a.site}, published {a.published_at or '-'}, fetched {_when(a.fetched_at)}, cluster {a.cluster_id})",
        f"B: {b.url} (site {b.site}, published {b.published_at or '-'}, fetched {_when(b.fetched_at)}, cluster {b.cluster_id})",
        "verdict: " + ("the same cluster (merged)" if same else "different clusters (not merged)"),
    ]
    chain = _chain(merges, a.url, b.url)
    if chain:
        lines.append("merge chain:")
        lines += [_merge_line(m) for m in chain]
    elif a.url == b.url:
        lines.append("merge chain: the same URL")
    elif same:
        lines.append("merge chain: none recorded (both copies joined the cluster through other copies or a rebuilt index)")
    undos = [m for m in merges if m.method == "undo" and m.member in (a.url, b.url)]
    if undos:
        lines.append("undone merges:")
        lines += [_merge_line(m) for m in undos]
    sig_a, sig_b = _signature(hasher, a.signature), _signature(hasher, b.signature)
    if isinstance(sig_a, str) or isinstance(sig_b, str):
        lines.append(f"estimated Jaccard (signatures): unavailable ({sig_a if isinstance(sig_a, str) else sig_b})")
    else:
        lines.append(f"estimated Jaccard (signatures, {config.num_perm} permutations): {hasher.estimate(sig_a, sig_b):.4f}")
    norm_a, norm_b = normalize_for_matching(a.text or ""), normalize_for_matching(b.text or "")
    sh_a, sh_b = hasher.shingles(norm_a, normalized=True), hasher.shingles(norm_b, normalized=True)
    verified = jaccard(sh_a, sh_b)
    lines.append(
        f"verified Jaccard (exact, {config.shingle} {config.shingle_size}-gram shingles of the stored texts): {verified:.4f} "
        f"(merge threshold {config.threshold}; {sh_a.size} and {sh_b.size} shingles)"
    )
    if norm_a == norm_b:
        lines.append("normalised bodies: identical (an exact-hash duplicate)")
    facts_a, facts_b = _facts(a.text or "", a.title or ""), _facts(b.text or "", b.title or "")
    conflicts = number_conflicts(facts_a.numbers, facts_b.numbers)
    if conflicts:
        lines.append(f"numbers: {conflicts} shared context(s) with different numbers (an update of a story is not merged)")
    elif (why := facts_conflict(facts_a, facts_b)) == "date":
        lines.append(f"date: the headlines name different days ({', '.join(sorted(facts_a.days))} / "
                     f"{', '.join(sorted(facts_b.days))}: two days' news, not merged)")
    elif why == "names":
        lines.append("names: each headline names something its own body repeats and the other body never mentions"
                     " (one template, two stories: not merged)")
    if known is None and same and len(members) > 1:
        known = _cluster_line(hasher, members, config.threshold, member_threshold)
        if cluster_lines is not None:
            cluster_lines[a.cluster_id] = known
    if known is not None:
        lines.append(known)
    lines.append(f"configuration: {config.fingerprint}")
    if stored_config is not None:
        note = "" if stored_config.fingerprint == config.fingerprint else " (DIFFERS from the configuration above)"
        lines.append(f"index built with: {stored_config.fingerprint} since {_when(stored_config.created_at)}{note}")
    return "\n".join(lines)


def _facts(text: str, title: str) -> StoryFacts:
    norm, cps = matching_codepoints(text)
    return story_facts(norm, cps, word_spans(cps), title)


def _cluster_line(hasher: MinHasher, members: list[Any], threshold: float, member_threshold: float) -> str:
    """The cluster as a whole: its size and the least verified Jaccard between two members."""
    sets = [(url, hasher.shingles(normalize_for_matching(text or ""), normalized=True)) for url, text in members]
    least, pair = 1.0, ("", "")
    for i, (url_i, sh_i) in enumerate(sets):
        for url_j, sh_j in sets[i + 1:]:
            score = jaccard(sh_i, sh_j)
            if score < least:
                least, pair = score, (url_i, url_j)
    return (
        f"cluster: {len(sets)} copies compared; least verified Jaccard between two of them {least:.4f}"
        + (f" ({pair[0]} and {pair[1]})" if pair[0] else "")
        + f"; a copy joins only when its best candidate reaches {threshold} and every member {member_threshold}"
        " (complete link: no chains)"
    )


def _signature(hasher: MinHasher, blob: bytes | None) -> Any:
    if not blob:
        return "no stored signature"
    try:
        return hasher.decode(blob)
    except SignatureMismatch as exc:
        return str(exc)


def unmerge(db: Database, url: str) -> tuple[str, str]:
    """Move the copy at *url* out of its cluster into one of its own.

    Records the undo in ``merges`` (kind ``article``, method ``undo``) and
    updates the copy's index row, so that a later crawl or import of the same
    URL keeps the new cluster. Copies that had joined the cluster through
    this one stay where they are.

    Returns:
        (old cluster id, new cluster id).

    Raises:
        UnknownArticle: the URL is not stored.
        ValueError: the copy is alone in its cluster (nothing to undo).
    """
    with db.begin() as s:
        art = _article(s, url)
        old = art.cluster_id or ""
        others = s.scalar(select(Article.id).where(Article.cluster_id == old, Article.id != art.id).limit(1)) if old else None
        if others is None:
            raise ValueError(f"{art.url} is alone in its cluster {old or '(none)'}: nothing to unmerge")
        new = unmerged_cluster_id(art.url)
        matched = s.scalars(
            select(MergeRecord.matched).where(
                MergeRecord.kind == "article", MergeRecord.member == art.url, MergeRecord.method != "undo"
            ).order_by(MergeRecord.created_at.desc(), MergeRecord.id.desc())
        ).first()
        if matched is None and art.dup_of is not None:
            matched = s.scalar(select(Article.url).where(Article.id == art.dup_of))
        s.execute(update(Article).where(Article.id == art.id).values(cluster_id=new, dup_of=None))
        s.execute(update(DedupDoc).where(DedupDoc.doc == doc_key(art.url)).values(cluster_id=new))
        s.add(MergeRecord(
            kind="article", member=art.url, matched=matched or old, cluster_id=new, method="undo", score=None,
            config=f"from cluster {old}"[:128], created_at=utcnow(),
        ))
    logger.info("Unmerged %s: cluster %s -> %s", art.url, old, new)
    return old, new
