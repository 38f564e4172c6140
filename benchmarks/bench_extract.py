"""Ours vs trafilatura on the same pages: body F1, titles, dates, boilerplate left, ms/page.

    python benchmarks/bench_extract.py [--repeat 3] [--write]

Data: the regression set in tests/extraction/ plus ../shared/seed/article.html (scored on their expected
fields), and the 8 real pages in ../shared/pages/ (scored on dates.json and our short snippets).
``--write`` replaces the section between the bench-extract markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from crawler.extract import extract_article  # noqa: E402
from crawler.extract.evaluate import Case, load_cases, same_date, score  # noqa: E402

SHARED = ROOT.parent / "shared"
START, END = "<!-- bench-extract:start -->", "<!-- bench-extract:end -->"


def ours(case: Case) -> tuple[str, str, str | None]:
    ext = extract_article(case.html, case.url, fetched_at=case.fetched_at)
    return ext.title, ext.text, ext.published_at


def theirs(case: Case) -> tuple[str, str, str | None]:
    doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True, deduplicate=False)
    if doc is None:
        return "", "", None
    return doc.title or "", doc.text or "", doc.date


def timed(fn, case: Case, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(case)
        times.append((time.perf_counter() - t0) * 1000)
    return out, min(times)


def labelled_cases() -> list[Case]:
    cases = load_cases(ROOT / "tests" / "extraction")
    seed = SHARED / "seed"
    if (seed / "article.html").exists():
        exp = json.loads((seed / "article.expected.json").read_text(encoding="utf-8"))
        exp["url"] = "http://127.0.0.1:8000/news/2025101500.html"
        cases.append(Case("seed", (seed / "article.html").read_bytes(), exp))
    return cases


def real_cases() -> list[Case]:
    pages = SHARED / "pages"
    if not (pages / "dates.json").exists():
        return []
    dates = json.loads((pages / "dates.json").read_text(encoding="utf-8"))
    snippets = json.loads((ROOT / "tests" / "extraction" / "real_pages.json").read_text(encoding="utf-8"))
    return [Case(name, (pages / name).read_bytes(), {**meta, **snippets.get(name, {})}) for name, meta in sorted(dates.items())]


def run(repeat: int) -> str:
    labelled, real = labelled_cases(), real_cases()
    rows = []
    for label, fn in (("ours (crawler.extract)", ours), ("trafilatura 2.3.1 bare_extraction", theirs)):
        fn(labelled[0])  # warm-up: imports, lazy tables
        scores, ms = [], []
        for case in labelled:
            (title, text, date), t = timed(fn, case, repeat)
            scores.append(score(title, text, date, case.expected))
            ms.append(t)
        real_dates = real_hits = real_left = 0
        for case in real:
            (title, text, date), t = timed(fn, case, repeat)
            ms.append(t)
            real_dates += same_date(date, case.expected["published_date"])
            real_hits += sum(s in text for s in case.expected.get("must", []))
            real_left += sum(s in text for s in case.expected.get("must_not", []))
        n = len(scores)
        must_total = sum(len(c.expected.get("must", [])) for c in real)
        rows.append(
            f"| {label} | {statistics.mean(s['f1'] for s in scores):.3f} | {sum(s['title_ok'] for s in scores) / n:.1%} "
            f"| {sum(s['date_ok'] for s in scores) / n:.1%} | {sum(bool(s['left']) for s in scores)} / {n} "
            f"| {real_dates} / {len(real)} | {real_hits} / {must_total} | {real_left} "
            f"| {statistics.mean(ms):.1f} | {statistics.median(ms):.1f} |"
        )
    header = (
        "| extractor | body F1 (avg) | titles exact | dates right | pages with boilerplate left "
        "| real pages: dates right | real: body snippets found | real: chrome snippets kept | ms/page (mean) | ms/page (median) |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    return "\n".join([
        "### Article extraction: ours vs trafilatura",
        "",
        f"Command: `python benchmarks/bench_extract.py --repeat {repeat} --write` (`make bench-extract`). "
        f"Machine: 2 cores, Python {platform.python_version()}; time per page is the best of {repeat} runs, "
        "after one warm-up call.",
        f"Data: {len(labelled)} labelled pages (the {len(labelled) - 1} project-written regression pages in "
        "`tests/extraction/`, 8 markup families, plus `../shared/seed/article.html`), scored on their expected "
        f"paragraphs (token F1), title, date and forbidden boilerplate strings; and the {len(real)} real pages in "
        "`../shared/pages/` (dates from `dates.json`, body/chrome snippets from `tests/extraction/real_pages.json`). "
        "trafilatura runs with `with_metadata=True, deduplicate=False`. Timing columns cover all pages.",
        "",
        header,
        *rows,
    ])


def write(section: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    section = run(args.repeat)
    print(section)
    if args.write:
        write(section, ROOT / "docs" / "benchmarks.md")
        print(f"\nwritten to {ROOT / 'docs' / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
