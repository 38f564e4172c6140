"""Export benchmark: 1,000,000 stored articles to typed Parquet (and stored pages to WARC), peak memory and time.

Usage: python benchmarks/bench_export.py [--n 1000000] [--warc 100000] [--write]

A synthetic SQLite database is filled with plain sqlite3 ``executemany``
(the schema from the migrations): ``--n`` articles of about 1,900 characters
of Arabic words each, one in four a copy joining the previous story's
cluster, ``published_at`` mixing bare dates, date-times with a zone, naive
date-times and none, authors and tags lists, two crawl runs. Then
``python -m crawler export --format parquet`` runs in a fresh process (as
users run it) and reports its own peak RSS (VmHWM) and wall time; the card is
part of the measure. ``--warc N`` does the same for ``--format warc
--all-copies`` over a second database of N articles with stored pages
(about 3.9 KB of HTML each). ``--write`` replaces the bench-export section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.storage.database import Database  # noqa: E402

START, END = "<!-- bench-export:start -->", "<!-- bench-export:end -->"

CHILD = r"""
import sys, time
sys.path.insert(0, {root!r})
from crawler.commands.cli import main
t = time.perf_counter()
try:
    main({args!r}, standalone_mode=False)
finally:
    secs = time.perf_counter() - t
    peak = 0.0
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    print("BENCH", secs, peak, file=sys.stderr)
"""

WORDS = [
    "أعلنت", "وزارة", "الصحة", "اليوم", "عن", "افتتاح", "مستشفى", "جديد", "في", "مدينة", "جدة", "بسعة", "سرير",
    "لخدمة", "سكان", "المنطقة", "وقال", "المتحدث", "الرسمي", "باسم", "الوزارة", "إن", "المشروع", "يضم", "أقساما",
    "متخصصة", "أمراض", "القلب", "والأورام", "الأطفال", "وأضاف", "أن", "يأتي", "ضمن", "خطة", "لتطوير", "الخدمات",
    "الصحية", "جميع", "مناطق", "المملكة", "خلال", "الأعوام", "المقبلة", "شهدت", "أسواق", "الأسهم", "الخليجية",
    "تراجعا", "ملحوظا", "تعاملات", "الأسبوع", "الماضي", "بسبب", "انخفاض", "أسعار", "النفط", "عالميا", "وتراجع",
    "المؤشر", "العام", "للسوق", "السعودية", "بنسبة", "طفيفة", "وسط", "تداولات", "ضعيفة", "شملت", "معظم", "القطاعات",
]


def _texts(rng: random.Random, k: int) -> list[str]:
    """*k* distinct bodies of about 1,900 characters (six paragraphs of 55 words)."""
    return ["\n".join(" ".join(rng.choice(WORDS) for _ in range(55)) for _ in range(6)) for _ in range(k)]


def _published(i: int) -> str | None:
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    kind = i % 4
    if kind == 0:
        return f"2025-{month:02d}-{day:02d}"
    if kind == 1:
        return f"2025-{month:02d}-{day:02d}T{i % 24:02d}:{i % 60:02d}:00+03:00"
    if kind == 2:
        return f"2025-{month:02d}-{day:02d}T{i % 24:02d}:15:00"
    return None


def fill(path: Path, n: int, pages: bool) -> float:
    """Fill *path* with *n* synthetic articles (and their pages when *pages*); returns seconds."""
    db = Database.open(f"sqlite:///{path}")
    db.close()
    rng = random.Random(1)
    pool = _texts(rng, 2000)
    html = [f"<html><head><title>t</title></head><body><article><p>{t}</p></article></body></html>".encode()
            for t in pool[:200]]
    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    when = "2025-06-01 08:00:00.000000"
    con.executemany(
        "INSERT INTO crawl_runs (id, started_at, finished_at, status, pages_fetched, articles_stored,"
        " duplicates_merged, per_source, errors, stats) VALUES (?,?,?,?,0,0,0,'{}','[]','{}')",
        [(1, when, when, "finished"), (2, when, when, "finished")])
    step = 20_000
    for start in range(0, n, step):
        rows = []
        for i in range(start, min(n, start + step)):
            story = i - 1 if i % 4 == 3 else i  # one in four joins the previous story's cluster
            rows.append((
                f"https://s{i % 40}.example/news/{i}", f"s{i % 40}", f"عنوان الخبر رقم {i}",
                f"الخبر {i}\n" + pool[i % len(pool)], _published(i), '["كاتب"]', '["وسم", "آخر"]',
                f"2025-06-01 {i % 24:02d}:{i % 60:02d}:{i % 60:02d}.{i % 1000:03d}000", when,
                f"c{story:015d}", 1 + i % 2,
            ))
        con.executemany(
            "INSERT INTO articles (url, site, title, text, published_at, authors, tags, related_headlines, fetched_at,"
            " updated_at, cluster_id, run_id) VALUES (?,?,?,?,?,?,?,'[]',?,?,?,?)", rows)
        if pages:
            first = con.execute("SELECT min(id) FROM articles WHERE url = ?", (rows[0][0],)).fetchone()[0]
            con.executemany(
                "INSERT INTO raw_pages (article_id, encoding, html_zlib, http_status, http_headers) VALUES (?,?,?,?,?)",
                [(first + k, "utf-8", zlib.compress(html[(start + k) % len(html)], 6), 200,
                  '[["Content-Type", "text/html; charset=utf-8"], ["Server", "bench"]]') for k in range(len(rows))])
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return time.perf_counter() - t0


def run_export(args: list[str]) -> tuple[float, float]:
    code = CHILD.format(root=str(ROOT), args=["export", *args])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    line = [x for x in out.stderr.splitlines() if x.startswith("BENCH ")]
    if out.returncode != 0 or not line:
        sys.exit(f"export failed: {out.stderr[-2000:]}")
    _, secs, peak = line[-1].split()
    return float(secs), float(peak)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="stored articles for the Parquet export")
    ap.add_argument("--warc", type=int, default=100_000, help="stored pages for the WARC export (0: skip)")
    ap.add_argument("--tmp", type=Path, default=None, help="folder for the databases (default: a temp folder)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as d:
        tmp = Path(d)
        db = tmp / "big.db"
        fill_s = fill(db, args.n, pages=False)
        out = tmp / "corpus.parquet"
        secs, peak = run_export(["--format", "parquet", "--out", str(out), "--db", f"sqlite:///{db}"])
        card = json.loads(out.with_name(out.name + ".card.json").read_text(encoding="utf-8"))
        secs_all, peak_all = run_export(["--format", "parquet", "--out", str(tmp / "all.parquet"), "--db",
                                         f"sqlite:///{db}", "--all-copies"])
        card_all = json.loads((tmp / "all.parquet.card.json").read_text(encoding="utf-8"))
        rows = [
            f"| typed Parquet, one record per cluster | {args.n:,} | {card['record_count']:,} "
            f"| {out.stat().st_size / 2**20:,.0f} MB | {secs:,.0f} s | {peak:,.0f} MB |",
            f"| typed Parquet, `--all-copies` | {args.n:,} | {card_all['record_count']:,} "
            f"| {(tmp / 'all.parquet').stat().st_size / 2**20:,.0f} MB | {secs_all:,.0f} s | {peak_all:,.0f} MB |",
        ]
        size = db.stat().st_size / 2**20
        db.unlink()
        warc_note = ""
        if args.warc:
            wdb = tmp / "pages.db"
            wfill = fill(wdb, args.warc, pages=True)
            wout = tmp / "pages.warc.gz"
            wsecs, wpeak = run_export(["--format", "warc", "--out", str(wout), "--db", f"sqlite:///{wdb}", "--all-copies"])
            wcard = json.loads(wout.with_name(wout.name + ".card.json").read_text(encoding="utf-8"))
            rows.append(f"| WARC (gzip per record), `--all-copies` | {args.warc:,} with pages | "
                        f"{wcard['record_count']:,} | {wout.stat().st_size / 2**20:,.0f} MB | {wsecs:,.0f} s | {wpeak:,.0f} MB |")
            warc_note = (f" The WARC database ({args.warc:,} articles, each with a stored page of ~3.9 KB of HTML) "
                         f"took {wfill:,.0f} s to fill.")
    cmd = "python benchmarks/bench_export.py" + (f" --n {args.n}" if args.n != 1_000_000 else "") + (
        f" --warc {args.warc}" if args.warc != 100_000 else "")
    md = [
        "### Export of a large stored corpus (typed Parquet, WARC)", "",
        f"Command: `{cmd} --write` (`make bench-export`); machine: 2 cores (shared with other jobs while "
        f"measured), Python {platform.python_version()}, SQLite. Data: a synthetic database filled with sqlite3 "
        f"`executemany` in {fill_s:,.0f} s ({size:,.0f} MB): {args.n:,} articles of ~1,900 characters of Arabic words "
        "over 40 sites, one in four a copy in the previous story's cluster, `published_at` a bare date, a date-time "
        "with a zone, a naive date-time or none (a quarter each), authors and tags lists, two crawl runs." + warc_note,
        "Each export runs as `python -m crawler export ...` in a fresh process; time is its wall time including "
        "the dataset card (sha256 of the file, per-site counts, runs); peak memory is that process's own peak RSS "
        "(VmHWM).", "",
        "| export | stored articles | records written | file | time | peak RSS |", "| --- | --- | --- | --- | --- | --- |",
        *rows,
    ]
    text = "\n".join(md)
    print(text)
    if args.write:
        doc = ROOT / "docs" / "benchmarks.md"
        old = doc.read_text(encoding="utf-8")
        if START in old and END in old:
            head, rest = old.split(START, 1)
            tail = rest.split(END, 1)[1]
        else:
            head, tail = old.rstrip("\n") + "\n\n## Export (`make bench-export`)\n\n", "\n"
        doc.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
