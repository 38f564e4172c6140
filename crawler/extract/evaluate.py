"""Scoring helpers shared by the extraction tests and ``benchmarks/bench_extract.py``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.text import normalize_for_matching, word_tokens


@dataclass
class Case:
    """One regression page with what a correct extraction gives."""

    name: str
    html: bytes
    expected: dict[str, Any]

    @property
    def url(self) -> str | None:
        return self.expected.get("url")

    @property
    def fetched_at(self) -> datetime | None:
        value = self.expected.get("fetched_at")
        return datetime.fromisoformat(value) if value else None


def load_cases(folder: Path) -> list[Case]:
    """Every ``<name>.html`` with its ``<name>.json`` in *folder*, sorted by name."""
    cases = []
    for html in sorted(folder.glob("*.html")):
        exp = html.with_suffix(".json")
        if exp.exists():
            cases.append(Case(html.stem, html.read_bytes(), json.loads(exp.read_text(encoding="utf-8"))))
    return cases


def token_f1(predicted: str, gold: str) -> float:
    """Bag-of-words F1 between two texts, on matching-normalised tokens."""
    return bag_f1(word_tokens(predicted), word_tokens(gold))


def bag_f1(predicted: Iterable[str], gold: Iterable[str]) -> float:
    """F1 of two bags of tokens (1.0 when both are empty)."""
    p, g = Counter(predicted), Counter(gold)
    if not p and not g:
        return 1.0
    common = sum((p & g).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def same_title(predicted: str, gold: str) -> bool:
    return normalize_for_matching(predicted) == normalize_for_matching(gold)


def same_date(predicted: str | None, gold: str | None) -> bool:
    return (predicted or "")[:10] == (gold or "")[:10]


def leftovers(text: str, title: str, forbidden: list[str]) -> list[str]:
    """Forbidden strings (boilerplate) that survived into the title or text."""
    hay = f"{title}\n{text}"
    return [s for s in forbidden if s and s in hay]


def score(title: str, text: str, published_at: str | None, expected: dict[str, Any]) -> dict[str, Any]:
    gold = "\n".join(expected.get("paragraphs", []))
    return {
        "f1": token_f1(text, gold) if gold else None,
        "title_ok": same_title(title, expected.get("title", "")),
        "date_ok": same_date(published_at, expected.get("published_date")),
        "left": leftovers(text, title, expected.get("must_not_contain", [])),
        "missing": [s for s in expected.get("must_contain", []) if s not in text],
    }
