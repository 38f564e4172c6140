"""Learned boilerplate: blocks that repeat across many pages of one site are template.

A :class:`SiteTemplate` is fed the block hashes of each page of a site (``observe``); once a
block has been seen on at least ``min_pages`` pages and on at least ``min_share`` of the pages
observed, it is template and ``extract_article(template=...)`` drops it. The state is a plain
JSON-serialisable dict, so a caller can store one per site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import xxhash

from crawler.text import normalize_for_matching

#: Blocks shorter than this many words are not learned (too common to mean anything).
MIN_WORDS = 2
#: At most this many distinct hashes are kept; the rarest are forgotten first.
MAX_HASHES = 50_000


def block_hash(text: str) -> str | None:
    """Hash of a block's matching form, or ``None`` when the block is too short to learn."""
    norm = normalize_for_matching(text)
    if len(norm.split()) < MIN_WORDS:
        return None
    return xxhash.xxh64_hexdigest(norm.encode("utf-8"))


class SiteTemplate:
    """Counts of block hashes over the observed pages of one site.

    Args:
        min_pages: a block must appear on at least this many pages to be template.
        min_share: ... and on at least this share of the pages observed.
    """

    def __init__(self, min_pages: int = 5, min_share: float = 0.3) -> None:
        if min_pages < 1 or not 0.0 < min_share <= 1.0:
            raise ValueError("min_pages must be >= 1 and 0 < min_share <= 1")
        self.min_pages = min_pages
        self.min_share = min_share
        self.pages = 0
        self.counts: dict[str, int] = {}

    def observe(self, block_hashes: Iterable[str]) -> None:
        """Count one page's blocks (each distinct hash once)."""
        self.pages += 1
        for h in set(block_hashes):
            if h:
                self.counts[h] = self.counts.get(h, 0) + 1
        if len(self.counts) > MAX_HASHES:
            keep = sorted(self.counts.items(), key=lambda kv: kv[1], reverse=True)[: MAX_HASHES // 2]
            self.counts = dict(keep)

    def is_template_hash(self, h: str | None) -> bool:
        if not h or self.pages < self.min_pages:
            return False
        count = self.counts.get(h, 0)
        return count >= self.min_pages and count >= self.min_share * self.pages

    def is_template(self, block_text: str) -> bool:
        """True when *block_text* (any spelling that normalises the same) is learned template."""
        return self.is_template_hash(block_hash(block_text))

    def template_hashes(self) -> set[str]:
        return {h for h in self.counts if self.is_template_hash(h)}

    def snapshot(self) -> SiteTemplate:
        """A copy that judges blocks as this one does now, holding only the template hashes.

        Small, for handing to a worker process with each page; it learns
        nothing (:meth:`observe` the page's hashes on the original).
        """
        copy = SiteTemplate(self.min_pages, self.min_share)
        copy.pages = self.pages
        copy.counts = {h: c for h, c in self.counts.items() if self.is_template_hash(h)}
        return copy

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "min_pages": self.min_pages, "min_share": self.min_share,
                "pages": self.pages, "counts": dict(self.counts)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteTemplate:
        tpl = cls(int(data.get("min_pages", 5)), float(data.get("min_share", 0.3)))
        tpl.pages = int(data.get("pages", 0))
        tpl.counts = {str(k): int(v) for k, v in (data.get("counts") or {}).items()}
        return tpl

    def __repr__(self) -> str:
        return f"SiteTemplate(pages={self.pages}, blocks={len(self.counts)}, template={len(self.template_hashes())})"
