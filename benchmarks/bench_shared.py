"""Shared crawl throughput with 1, 2 and 3 workers (``crawl --redis``), on PostgreSQL + Redis.

Usage: ``python benchmarks/bench_shared.py [--sites N] [--articles N] [--latency S] [--per-domain C]
[--requests R] [--rounds R] [--write]``.

The local web: ``--sites`` generated sites (tests/support/incsite.py: home, section,
feed, sitemap, robots.txt and ``--articles`` articles each) served on 127.0.0.2, .3, ...
by :class:`tests.support.timed_site.TimedSiteServer`, which answers every request
after a fixed latency (``--latency``, a remote site's round trip). For each
worker count, a fresh PostgreSQL database and a fresh Redis key prefix; the
workers (each a whole ``python -m crawler crawl --redis`` process) start
together with no download delay, a global per-domain concurrency of
``--per-domain`` (enforced across workers by the politeness gate) and
``CONCURRENT_REQUESTS=--requests`` each. The defaults (24 sites, 15 articles,
500 ms, 2 per domain, 8 per worker) make a latency-bound web whose politeness
cap (48 requests at once) is above what three workers send (24): the figure is
then how the workers' requests add up, not the cap. Wall time runs from the start of the
first process to the exit of the last one (process start-up included); pages
are the requests the servers answered, articles the rows stored. Best of
``--rounds`` (rounds alternate the worker counts).

Per worker (``--phases`` prints them; the best round's go to the doc) the
phases come from the servers' logs (each worker sends its own User-Agent) and
its run's stats: start-up (process start to its first request), crawling
(first to last request), the end (last request to exit), its pages, the time
its requests waited at the gate for a domain lease (summed over requests) and
the time it sat idle while others still worked.
``--write`` replaces the section between ``<!-- bench-shared:start -->`` and
``<!-- bench-shared:end -->`` in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from crawler.storage.database import Database  # noqa: E402
from crawler import stats as st  # noqa: E402
from crawler.storage.models import Article, CrawlRun  # noqa: E402
from tests.support.incsite import IncSite, crawl_env  # noqa: E402
from tests.support.pg import drop_pg_database, fresh_pg_database  # noqa: E402
from tests.support.timed_site import TimedSiteServer  # noqa: E402

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-shared:start -->", "<!-- bench-shared:end -->"
AGENT = "bench-shared-worker-"


def sources_file(sites: list[tuple[IncSite, TimedSiteServer]], dest: Path) -> Path:
    lines = ["sources:"]
    for n, (_, server) in enumerate(sites):
        base = server.base_url
        lines += [f"  - name: site{n}", f"    start_urls: [{base}/]", f"    feeds: [{base}/feed.xml]",
                  f"    sitemaps: [{base}/sitemap.xml]"]
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def run(workers: int, sources: Path, servers: list[TimedSiteServer], tmp: Path,
        args: argparse.Namespace) -> dict[str, Any]:
    import redis

    for server in servers:
        server.reset_requests()
    url, name = fresh_pg_database()
    prefix = f"bench-shared-{uuid.uuid4().hex[:10]}"
    cmd = [sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), "--db", url, "--redis", REDIS_URL,
           "-s", "DOWNLOAD_DELAY=0", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_domain}",
           "-s", f"CONCURRENT_REQUESTS={args.requests}", "-s", f"LOG_LEVEL={args.log_level}",
           "-s", "LOG_FORMAT=%(created).3f %(levelname)s %(name)s: %(message)s",
           "-s", "RETRY_TIMES=0", "-s", f"REDIS_KEY_PREFIX={prefix}", "-s", "REDIS_IDLE_POLL_SECONDS=0.2"]
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        procs, launched = [], []
        for i in range(workers):
            out = ((args.logs or tmp) / f"w{workers}-{i}.log").open("w")
            launched.append(time.monotonic() - t0)
            procs.append(subprocess.Popen([*cmd, "-s", f"USER_AGENT={AGENT}{i}"], cwd=ROOT, stdout=out,
                                          stderr=subprocess.STDOUT, env=crawl_env()))
        exited: dict[int, float] = {}
        while len(exited) < workers:
            for i, proc in enumerate(procs):
                if i not in exited and proc.poll() is not None:
                    exited[i] = time.monotonic() - t0
            if time.monotonic() - t0 > 600:
                for proc in procs:
                    proc.kill()
                raise SystemExit(f"{workers} worker(s): not finished in 600 s; logs in {tmp}")
            time.sleep(0.01)
        wall = max(exited.values())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        codes = [p.returncode for p in procs]
        if any(codes):
            raise SystemExit(f"{workers} worker(s): exit codes {codes}; logs in {tmp}")
        db = Database.open(url, migrate=False)
        try:
            with db.session() as s:
                articles = s.scalar(select(func.count()).select_from(Article))
                runs = {r.pid: r.stats for r in s.scalars(select(CrawlRun))}
        finally:
            db.close()
    finally:
        drop_pg_database(name)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    pages = sum(len(s.requests) for s in servers)
    phases = []
    for i, proc in enumerate(procs):
        times = sorted(t - t0 for server in servers for t, agent in server.agents if agent == f"{AGENT}{i}")
        stats = runs.get(proc.pid, {})
        first, last = (times[0], times[-1]) if times else (exited[i], exited[i])
        phases.append({"worker": i, "startup": first - launched[i], "crawling": last - first,
                       "end": exited[i] - last, "pages": len(times),
                       "gate": stats.get(st.POLITENESS_BUSY_SECONDS, 0.0), "gate_polls": stats.get(st.POLITENESS_BUSY, 0),
                       "idle": stats.get(st.SHARED_IDLE_SECONDS, 0.0), "idle_polls": stats.get(st.SHARED_IDLE_POLLS, 0),
                       "taken": stats.get(st.SHARED_DEQUEUED, 0)})
    return {"workers": workers, "wall": wall, "pages": pages, "articles": articles, "phases": phases, "cpu": cpu}


def phase_rows(result: dict[str, Any]) -> list[str]:
    return [f"| {result['workers']} | w{p['worker']} | {p['startup']:.2f} | {p['crawling']:.2f} | {p['end']:.2f} |"
            f" {p['pages']} | {p['gate']:.1f} ({p['gate_polls']}) | {p['idle']:.2f} ({p['idle_polls']}) |"
            for p in result["phases"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=24, help="local sites (127.0.0.2, .3, ...)")
    parser.add_argument("--articles", type=int, default=15, help="articles per site")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds the server waits per request")
    parser.add_argument("--per-domain", type=int, default=2, help="global per-domain concurrency (the gate)")
    parser.add_argument("--requests", type=int, default=8, help="CONCURRENT_REQUESTS of each worker")
    parser.add_argument("--workers", default="1,2,3", help="worker counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--phases", action="store_true", help="print each worker's phases after each run")
    parser.add_argument("--log-level", default="WARNING", help="the workers' LOG_LEVEL")
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        sites, servers = [], []
        for n in range(args.sites):
            site = IncSite(tmp / f"site{n}", args.articles)
            server = TimedSiteServer(site.root, latency=args.latency, host=f"127.0.0.{n + 2}").start()
            sites.append((site, server))
            servers.append(server)
        sources = sources_file(sites, tmp / "sources.yaml")
        best: dict[int, dict[str, Any]] = {}
        all_walls: dict[int, list[float]] = {w: [] for w in counts}
        try:
            for _ in range(args.rounds):
                for workers in counts:
                    result = run(workers, sources, servers, tmp, args)
                    all_walls[workers].append(result["wall"])
                    print(f"{workers} worker(s): {result['wall']:.2f} s, {result['pages']} pages,"
                          f" {result['articles']} articles, {result['cpu']:.1f} CPU s", flush=True)
                    if args.phases:
                        print("\n".join(phase_rows(result)), flush=True)
                    if workers not in best or result["wall"] < best[workers]["wall"]:
                        best[workers] = result
        finally:
            for server in servers:
                server.stop()
    base = best[min(counts)]["wall"]
    rows = [f"| {w} | {r['wall']:.2f} ({', '.join(f'{x:.2f}' for x in all_walls[w])}) | {r['pages']} |"
            f" {r['articles']} | {r['pages'] / r['wall']:.1f} | {r['articles'] / r['wall']:.1f} |"
            f" {base / r['wall']:.2f}x | {r['cpu']:.1f} |" for w, r in sorted(best.items())]
    cpu = platform.processor() or platform.machine()
    command = (f"python benchmarks/bench_shared.py --sites {args.sites} --articles {args.articles}"
               f" --latency {args.latency} --per-domain {args.per_domain} --requests {args.requests}"
               f" --rounds {args.rounds} --write")
    text = "\n".join([
        START,
        f"Measured {datetime.now(UTC).date()} with `{command}`: {args.sites} local sites"
        f" (127.0.0.2-{args.sites + 1}, {args.articles} articles each, home, section, feed, sitemap, robots.txt),"
        f" every answer after {int(args.latency * 1000)} ms; PostgreSQL and Redis on the same machine; each worker"
        f" a whole `crawl --redis` process with `CONCURRENT_REQUESTS={args.requests}`, no download delay, a global"
        f" per-domain concurrency of {args.per_domain} (the politeness gate). Wall time from the first start to"
        f" the last exit (start-up included), best of {args.rounds} alternated rounds (all rounds in brackets)."
        f" Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average"
        f" {os.getloadavg()[0]:.1f} at the end (above 2: other jobs shared the cores, figures are noisy).",
        "",
        "| workers | wall s | pages | articles | pages/s | articles/s | speed-up | CPU s (all workers) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Each worker in the best round: start-up (process start to its first request), crawling (its first to"
        " its last request), end (its last request to its exit, including the end rule), pages it fetched,"
        " gate (seconds its requests waited for a domain lease, summed; polls), idle (seconds it waited with"
        " the crawl not over; idle polls).",
        "",
        "| workers | worker | start-up s | crawling s | end s | pages | gate s (polls) | idle s (polls) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
        *(row for _, r in sorted(best.items()) for row in phase_rows(r)),
        END,
    ])
    print(text)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        if START in doc:
            doc = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: text, doc, flags=re.S)
        else:
            doc = doc.rstrip("\n") + "\n\n## Shared crawl: throughput with 1, 2 and 3 workers\n\n" + text + "\n"
        DOC.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
