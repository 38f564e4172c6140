"""The plain datasketch loop that ``import`` is measured against (one definition for every benchmark).

Word 3-grams of each text (split on whitespace), ``MinHash.update`` per shingle
(128 permutations), ``MinHashLSH(threshold=0.5)`` query then insert; nothing
cleaned, nothing stored. ``benchmarks/bench_dedup.py`` times the loop alone;
``benchmarks/bench_import.py`` runs this file as a whole process
(``python benchmarks/plain_loop.py FILE.jsonl``), start-up included.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from datasketch import MinHash, MinHashLSH


def record_text(rec: dict[str, Any]) -> str:
    """A corpus record's text (``text``, else its ``paragraphs`` joined)."""
    return rec.get("text") or "\n".join(rec.get("paragraphs") or [])


def plain_loop(texts: Iterable[str]) -> int:
    """Hash and look up every text; returns how many."""
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    n = 0
    for i, x in enumerate(texts):
        w = x.split()
        m = MinHash(num_perm=128)
        for j in range(max(1, len(w) - 2)):
            m.update(" ".join(w[j:j + 3]).encode("utf-8"))
        lsh.query(m)
        lsh.insert(i, m)
        n += 1
    return n


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        plain_loop(record_text(json.loads(line)) for line in fh)
