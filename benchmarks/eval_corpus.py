"""Whole-corpus evaluation of the article clusters (issue: clusters on whole real corpora).

Method, run on a real corpus nobody here wrote (../shared/corpus/*.jsonl):

1. ``python -m crawler import FILE`` into a fresh SQLite database (a whole process),
   then ``python -m crawler export --all-copies`` (another) to read the clusters back.
2. Every pair of exported articles that share a *rare* word 3-gram (one found in at
   most ``RARE_DF`` articles) is labelled by the exact Jaccard similarity of their
   normalised word 3-grams (``crawler.text.normalize_for_matching``): 0.7 or more is a
   copy, under 0.3 a different story, pairs in between are not scored. Every pair
   the clusters merge is labelled the same way, whether or not it shares a rare gram.
3. Pairwise precision over the scored pairs the clusters merge; recall over the copy pairs.

Also reported: records kept (of the file's lines), the largest clusters with their
titles so that a person can look at them, and any cluster holding two articles
under 0.3 of each other.

Usage: python benchmarks/eval_corpus.py [FILE ...] [--top 8] [--json OUT] [--write]
(default files: both corpora of ../shared/corpus; --write replaces the section between
the bench-corpus markers in docs/benchmarks.md). Part of ``make bench-dedup``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.text import normalize_for_matching  # noqa: E402
from crawler.urls import canonical_url  # noqa: E402

COPY, DIFFERENT = 0.7, 0.3
CORPORA = ROOT.parent / "shared" / "corpus"
DEFAULT_FILES = [CORPORA / "saudinewsnet-2015-07-21_23.jsonl", CORPORA / "ant-jawharafm.jsonl"]
START, END = "<!-- bench-corpus:start -->", "<!-- bench-corpus:end -->"
RARE_DF = 20  # a 3-gram in at most this many articles is rare


def grams(text: str) -> frozenset[str]:
    words = normalize_for_matching(text).split()
    return frozenset(" ".join(words[i:i + 3]) for i in range(len(words) - 2))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def run(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def evaluate(path: Path, top: int = 8) -> dict:
    lines, urls = 0, set()
    for line in path.open(encoding="utf-8"):
        if line.strip():
            lines += 1
            try:
                urls.add(canonical_url(json.loads(line).get("url") or ""))
            except (ValueError, AttributeError):
                pass
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/eval.db"
        out = Path(tmp) / "all.jsonl"
        py = sys.executable
        seconds = run([py, "-m", "crawler", "import", str(path), "--db", db])
        run([py, "-m", "crawler", "export", "--format", "jsonl", "--out", str(out), "--db", db, "--all-copies"])
        records = [json.loads(line) for line in out.open(encoding="utf-8")]
    g = [grams(r["text"]) for r in records]
    cluster = [r["cluster_id"] for r in records]

    df: Counter[str] = Counter(x for s in g for x in s)
    postings: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(g):
        for x in s:
            if df[x] <= RARE_DF and df[x] > 1:
                postings[x].append(i)
    candidates: set[tuple[int, int]] = set()
    for ids in postings.values():
        candidates.update(combinations(ids, 2))
    members: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cluster):
        members[c].append(i)
    merged = {p for ids in members.values() for p in combinations(ids, 2)}

    score = {p: jaccard(g[p[0]], g[p[1]]) for p in candidates | merged}
    copies = {p for p in candidates if score[p] >= COPY}
    tp = sum(1 for p in merged if score[p] >= COPY)
    fp_pairs = [p for p in merged if score[p] < DIFFERENT]
    found = sum(1 for p in copies if p in merged)
    precision = tp / (tp + len(fp_pairs)) if tp + len(fp_pairs) else 1.0
    recall = found / len(copies) if copies else 1.0

    largest = sorted(members.values(), key=len, reverse=True)[:top]
    bad_clusters = {cluster[i] for p in fp_pairs for i in p}
    return {
        "file": path.name,
        "lines": lines,
        "urls": len(urls),
        "kept": len(records),
        "kept_share": len(records) / len(urls) if urls else 1.0,
        "import_seconds": round(seconds, 2),
        "copy_pairs": len(copies),
        "merged_pairs": len(merged),
        "precision": precision,
        "recall": recall,
        "false_pairs": len(fp_pairs),
        "clusters_with_false_pairs": len(bad_clusters),
        "largest": [
            {"size": len(ids), "min_jaccard": round(min((score.get(p, jaccard(g[p[0]], g[p[1]]))
                                                          for p in combinations(ids, 2)), default=1.0), 3),
             "titles": [records[i]["title"][:90] for i in ids[:6]]}
            for ids in largest if len(ids) > 1
        ],
    }


def render(results: list[dict]) -> list[str]:
    lines = [
        "| corpus | lines | articles kept / distinct URLs | copy pairs | merged pairs | precision | recall | false pairs (clusters) | import s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['file']} | {r['lines']:,} | {r['kept']:,} / {r['urls']:,} ({100 * r['kept_share']:.1f}%) | "
            f"{r['copy_pairs']:,} | "
            f"{r['merged_pairs']:,} | {r['precision']:.3f} | {r['recall']:.3f} | {r['false_pairs']} "
            f"({r['clusters_with_false_pairs']}) | {r['import_seconds']:.1f} |"
        )
    lines += ["", "A line whose URL repeats an earlier line's (percent-encoded or not) is the same article: "
              "one row per canonical URL."]
    for r in results:
        lines += ["", f"Largest clusters of {r['file']} (size, least Jaccard between two members, first titles):", ""]
        for c in r["largest"]:
            lines.append(f"- {c['size']} copies, least Jaccard {c['min_jaccard']}: " + " / ".join(c["titles"][:3]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    files = args.files or [f for f in DEFAULT_FILES if f.exists()]
    if not files:
        sys.exit("eval_corpus: no corpus given and ../shared/corpus is absent")
    results = [evaluate(f, args.top) for f in files]
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = render(results)
    sys.stdout.write("\n".join(lines) + "\n")
    if args.write:
        write(lines)


def write(lines: list[str]) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    old = doc.read_text(encoding="utf-8")
    if START not in old:
        old = old.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = old.split(START, 1)
    tail = rest.split(END, 1)[1]
    command = "`.venv/bin/python benchmarks/eval_corpus.py --write` (part of `make bench-dedup`)"
    doc.write_text(f"{head}{START}\nMeasured with {command}.\n\n" + "\n".join(lines) + f"\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
