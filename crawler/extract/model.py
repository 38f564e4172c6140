"""The :class:`Extraction` result record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Extraction:
    """Everything extracted from one page. ``is_article`` False comes with a short ``reason`` slug."""

    is_article: bool = False
    reason: str | None = None
    title: str = ""
    text: str = ""
    paragraphs: list[str] = field(default_factory=list)
    published_at: str | None = None
    date_source: str | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    attribution: str | None = None
    related_headlines: list[dict[str, str]] = field(default_factory=list)
    read_also: list[dict[str, str]] = field(default_factory=list)
    canonical_url: str | None = None
    lang: str | None = None
    page_type: str | None = None
    boilerplate_removed: int = 0
    #: Which candidate gave the body: ``page`` (the page's own), ``jsonld`` (its JSON-LD articleBody)
    #: or ``trafilatura`` (the second opinion); see crawler/extract/candidates.py.
    body_source: str | None = None
    #: Why other candidates were consulted (the weak rule that held: ``short``, ``mostly_links``...), else None.
    body_weakness: str | None = None
    block_hashes: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, reason: str) -> Extraction:
        return cls(is_article=False, reason=reason)

    def to_record(self) -> dict[str, Any]:
        """The JSON object printed by ``python -m crawler extract`` (block hashes left out)."""
        record = asdict(self)
        record.pop("block_hashes", None)
        return record
