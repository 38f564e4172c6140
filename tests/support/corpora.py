"""The shared corpora (``../shared/corpus/*.jsonl``), read in place: never copied into the project.

Tests of the cleaning shortcuts run every record through the shortcut and the long way round.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CORPORA = sorted((Path(__file__).resolve().parents[3] / "shared" / "corpus").glob("*.jsonl"))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def records() -> Iterator[dict[str, Any]]:
    """Every record of every shared corpus."""
    for path in CORPORA:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)


def text_of(rec: dict[str, Any]) -> str:
    """A record's text, as the importer takes it (``text``, else its ``paragraphs`` joined)."""
    text = rec.get("text")
    if not text and isinstance(rec.get("paragraphs"), list):
        text = "\n".join(p for p in rec["paragraphs"] if isinstance(p, str))
    return text if isinstance(text, str) else ""


def lines() -> list[str]:
    """Every distinct title, paragraph, line and whole text of the shared corpora."""
    out: list[str] = []
    for rec in records():
        text = text_of(rec)
        paragraphs = [p for p in rec.get("paragraphs") or [] if isinstance(p, str)]
        out += [rec.get("title") or "", text, *paragraphs, *_LINE_BREAK.split(text)]
    return list(dict.fromkeys(out))
