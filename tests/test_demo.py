"""`make demo` end to end: serve, crawl, de-duplicate, export, summarise (a subprocess, as users run it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"url", "site", "title", "text", "published_at", "authors", "tags", "attribution", "cluster_id",
          "duplicate_urls", "fetched_at"}


def test_demo_gives_one_record_per_story(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "crawler", "demo", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "site" / "_manifest.json").read_text(encoding="utf-8"))
    records = [json.loads(line) for line in (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == manifest["distinct_stories"]
    for record in records:
        assert FIELDS <= set(record)
        assert record["title"] and len(record["text"]) > 200
        assert "Your browser does not support" not in record["text"]
        assert "المصدر:" not in record["text"] and "كلمات دلالية" not in record["text"]
    merged = [r for r in records if r["duplicate_urls"]]
    assert sum(len(r["duplicate_urls"]) for r in merged) == manifest["expected_articles"] - manifest["distinct_stories"]
    assert "corpus.jsonl" in result.stdout and "duplicates merged" in result.stdout
    assert "boilerplate blocks removed" in result.stdout
