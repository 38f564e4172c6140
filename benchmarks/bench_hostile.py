"""Hostile pages: extraction time and peak memory per page (``make bench-hostile``).

    python benchmarks/bench_hostile.py [--write]

Two sets, each page in a fresh process (warmed up on an ordinary page first, so imports and
the first-call compilation of dateparser/htmldate are not counted):

* the cases of the hostile-input issue (tests/support/hostile_pages.py): long runs of spaces in
  ``<time>``, its ``datetime``, JSON-LD dates, headlines, authors and keywords; 4 MB of lines that
  baited the comment rule; 1.6 million empty ``<p>``; 250,000 ``<br>`` lines; 2 million ``<br>``
  at the 8 MB input cap; a vertical tab after a removed block; a 100,000-deep JSON-LD block;
* one page per regular expression of the extract, date, feed and URL rules, its body made of
  the adversarial inputs tests/support/redos.py builds against that pattern (under 5 MB each).

``--write`` replaces the section between the bench-hostile markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import html as htmlmod
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-hostile:start -->", "<!-- bench-hostile:end -->"
LIMIT_BYTES = 5_000_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pattern_page(wanted: str) -> bytes:
    from tests.support.hostile_pages import page
    from tests.support.redos import adversarial_inputs
    from tests.test_hostile_regex import PATTERNS

    for name, pattern in PATTERNS:
        if name != wanted:
            continue
        texts, size = [], 0
        for text in adversarial_inputs(pattern, 20_000):
            text = htmlmod.escape(text.replace("\x00", "\x01"))
            if size + len(text.encode()) > LIMIT_BYTES - 100_000:
                break
            texts.append(text)
            size += len(text.encode())
        first = texts[0] if texts else ""
        head = f"<script type='application/ld+json'>{json.dumps({'headline': first[:30_000], 'datePublished': first[:30_000]})}</script>"
        body = f"<time datetime='{first[:30_000]}'>{first[:30_000]}</time>" + "".join(f"<p>{t}</p>" for t in texts)
        return page(body, head)
    raise KeyError(wanted)


def _run_one(kind: str, name: str) -> dict:
    from crawler.extract import extract_article
    from crawler.extract.dates import parse_machine_date
    from tests.support.hostile_pages import cases, page

    extract_article(page(), "https://a.example/news/0")  # warm-up: imports, first compilations
    parse_machine_date("12 x", 2030)  # dateparser compiles its locale and time-zone tables on first use
    html = cases()[name] if kind == "case" else _pattern_page(name)
    before = _rss_mb()
    start = time.perf_counter()
    result = extract_article(html, "https://a.example/news/1")
    took = time.perf_counter() - start
    return {"name": name, "mb": len(html) / 1e6, "s": took, "peak_mb": _rss_mb(), "grew_mb": _rss_mb() - before,
            "result": "article" if result.is_article else result.reason}


def _child(kind: str, name: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, name], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "NAME"))
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_run_one(*args.one)))
        return
    from tests.support.hostile_pages import cases
    from tests.test_hostile_regex import PATTERNS

    lines = ["### The cases of the hostile-input issue (one page each, fresh process)", "",
             "| page | size | time | peak RSS | result |", "|---|---:|---:|---:|---|"]
    for name in cases():
        r = _child("case", name)
        lines.append(f"| {name} | {r['mb']:.1f} MB | {r['s']:.2f} s | {r['peak_mb']:.0f} MB | {r['result']} |")
        print(lines[-1], flush=True)
    rows = []
    for name, _ in PATTERNS:
        r = _child("pattern", name)
        rows.append(r)
        print(f"{name}: {r['s']:.2f} s {r['mb']:.1f} MB {r['peak_mb']:.0f} MB", flush=True)
    slowest = sorted(rows, key=lambda r: r["s"], reverse=True)[:5]
    biggest = max(rows, key=lambda r: r["peak_mb"])
    lines += ["", f"### One page per regular expression ({len(rows)} patterns, adversarial bodies up to 5 MB)", "",
              f"Slowest five (of {len(rows)}); every page: time ≤ {max(r['s'] for r in rows):.2f} s, "
              f"peak RSS ≤ {biggest['peak_mb']:.0f} MB ({biggest['name']}).", "",
              "| pattern | size | time | peak RSS |", "|---|---:|---:|---:|"]
    lines += [f"| `{r['name']}` | {r['mb']:.1f} MB | {r['s']:.2f} s | {r['peak_mb']:.0f} MB |" for r in slowest]
    text = "\n".join(lines)
    print(text)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        block = f"{START}\n{text}\n{END}"
        if START in doc:
            doc = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
        else:
            doc += f"\n## Hostile pages (`make bench-hostile`)\n\n{block}\n"
        DOC.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
