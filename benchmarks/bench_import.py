"""Import speed as whole processes: ``python -m crawler import`` against the plain datasketch loop.

Both are timed from process start to exit (interpreter start-up and imports included),
on the same articles, alternated, in the same run:

* plain loop: read the JSON lines, word 3-grams of each text (split on whitespace),
  ``MinHash.update`` per shingle (128 permutations), ``MinHashLSH(threshold=0.5)``
  query then insert; nothing stored;
* ``python -m crawler import FILE --db sqlite:///NEW``: parse, clean, de-duplicate,
  store everything.

Data: the first 10,000 articles of both shared corpora together (SaudiNewsNet then
Jawhara FM: about 1,450 characters on average), and Jawhara FM alone (short articles).
A start-up line times each process on a one-article file.

Usage: python benchmarks/bench_import.py [--rounds 3] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpus"
START, END = "<!-- bench-import:start -->", "<!-- bench-import:end -->"

PLAIN = ROOT / "benchmarks" / "plain_loop.py"  # the loop bench_dedup.py times too


def write_subset(path: Path, sources: list[Path], limit: int) -> tuple[int, float]:
    n, chars = 0, 0
    with path.open("w", encoding="utf-8") as out:
        for src in sources:
            for line in src.open(encoding="utf-8"):
                if n >= limit:
                    break
                rec = json.loads(line)
                chars += len(rec.get("text") or "\n".join(rec.get("paragraphs") or []))
                out.write(line)
                n += 1
    return n, chars / max(1, n)


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return time.perf_counter() - started


def measure(data: Path, tmp: Path, rounds: int, compare: Path | None = None) -> tuple[float, float, float | None]:
    """Best of *rounds* of the plain loop, of ``import`` and (with *compare*) of another checkout's ``import``."""
    py = sys.executable
    plain, ours, other = [], [], []
    for r in range(rounds):
        plain.append(timed([py, str(PLAIN), str(data)]))
        ours.append(timed([py, "-m", "crawler", "import", str(data), "--db", f"sqlite:///{tmp}/{data.stem}{r}.db"]))
        if compare is not None:
            other.append(timed([py, "-m", "crawler", "import", str(data), "--db", f"sqlite:///{tmp}/{data.stem}{r}c.db"],
                               cwd=compare))
    return min(plain), min(ours), min(other) if other else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="also time the import of another checkout (e.g. the main branch), alternated")
    args = parser.parse_args()
    saudi, jawhara = CORPORA / "saudinewsnet-2015-07-21_23.jsonl", CORPORA / "ant-jawharafm.jsonl"
    if not (saudi.exists() and jawhara.exists()):
        sys.exit("bench_import: ../shared/corpus is absent")
    extra = " | `import` of the compared checkout s" if args.compare else ""
    lines = [
        f"| data | articles | mean chars | plain loop s | `import` s | ratio{extra} |",
        "| --- " * (6 + bool(args.compare)) + "|",
    ]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, sources, limit in (("both corpora, first 10,000", [saudi, jawhara], 10_000),
                                     ("Jawhara FM (short)", [jawhara], 10_000),
                                     ("start-up: one article", [saudi], 1)):
            data = tmp / f"{len(lines)}.jsonl"
            n, mean = write_subset(data, sources, limit)
            plain, ours, other = measure(data, tmp, args.rounds, args.compare)
            cell = f" | {other:.2f}" if other is not None else ""
            lines.append(f"| {name} | {n:,} | {mean:,.0f} | {plain:.2f} | {ours:.2f} | {plain / ours:.2f}x{cell} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.write:
        doc = ROOT / "docs" / "benchmarks.md"
        old = doc.read_text(encoding="utf-8")
        if START not in old:
            old = old.rstrip("\n") + f"\n\n{START}\n{END}\n"
        head, rest = old.split(START, 1)
        compare = f" --compare {args.compare}" if args.compare else ""
        note = (f"Measured with `.venv/bin/python benchmarks/bench_import.py --rounds {args.rounds}{compare} --write` "
                f"(part of `make bench-dedup`), best of {args.rounds} alternated rounds, each a whole process "
                f"(start-up included), 2 cores.\n\n")
        doc.write_text(f"{head}{START}\n{note}{text}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")


if __name__ == "__main__":
    main()
