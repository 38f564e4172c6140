"""A shared crawl clusters as one process does: three ``crawl --redis`` workers, 5 times over (20 on demand).

Four sites (127.0.0.2-5) carry copies of the same wire stories (near-duplicates:
each copy adds a sentence naming its site) and stories of their own. One
single-process crawl of the web is the reference; then the web is crawled 20
times by three workers sharing one Redis frontier and one fresh PostgreSQL
database each time. Every run must store every article once, fetch every page
once in total, and end with exactly the reference's clusters (as sets of URLs:
a cluster's id is that of the copy that founded it, which depends on who came
first). Races are rare events: one run proves little, so it is run 5 times in the suite (without
the band locks 9 runs in 10 went wrong, with locks released at the index commit 13 in 20: five runs
catch either with a probability above 99%; each run costs 7-14 s of the suite's 10 minutes), and
20 times for a change to the locks: ``SHARED_DEDUP_RUNS=20 pytest -s tests/test_shared_dedup.py``.

``SHARED_DEDUP_RUNS`` changes the number of runs; ``SHARED_DEDUP_LOCKS=0`` turns the
band locks off (``DEDUP_LOCKS=False``), to measure what they prevent (docs/benchmarks.md).

Needs Redis and PostgreSQL (skipped without them, unless REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.storage.models import Article, CrawlRun
from tests.support.db import query
from tests.support.incsite import REPO, crawl_cmd, crawl_env, run_crawl
from tests.support.pg import pg_database
from tests.support.syndicated import GatedSiteServer, SyndicatedSite, sources_yaml
from tests.test_shared import REDIS_URL, redis_prefix  # noqa: F401 - the fixture

SITES, ARTICLES, WIRES = 4, 6, 4
RUNS = int(os.environ.get("SHARED_DEDUP_RUNS", "5"))
WORKERS = 3
#: every worker fetches from every site at once (the copies of one story are clustered at about the same time)
FAST_SHARED = ("-s", "REDIS_IDLE_POLL_SECONDS=0.1", "-s", "LOG_LEVEL=WARNING", "-s", "CLEAN_WORKERS=0")
LOCKS = () if os.environ.get("SHARED_DEDUP_LOCKS", "1") == "1" else ("-s", "DEDUP_LOCKS=False")


def partition(url: str) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for u, cid in query(url, select(Article.url, Article.cluster_id)):
        groups.setdefault(cid, set()).add(u)
    return {frozenset(g) for g in groups.values()}


def wait_for_runs(url: str, n: int, procs: list[subprocess.Popen[str]]) -> None:
    """Until *n* workers have recorded their runs (they join the frontier right after)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if len(query(url, select(CrawlRun.id))) >= n:
                return
        except Exception:  # noqa: BLE001, S110 - the schema is not there yet
            pass
        assert all(p.poll() is None for p in procs), "a worker exited before the crawl started"
        time.sleep(0.1)
    raise AssertionError(f"{n} workers did not start in 90 s")


def stored_urls(url: str) -> list[str]:
    return [u for (u,) in query(url, select(Article.url))]


@pytest.mark.redis
@pytest.mark.postgres
def test_three_workers_cluster_as_one_process_every_time(tmp_path: Path, redis_prefix: str) -> None:  # noqa: F811
    sites = [SyndicatedSite(tmp_path / f"site{n}", ARTICLES, n, WIRES) for n in range(SITES)]
    with ExitStack() as stack:
        gate = threading.Event()
        gate.set()
        servers = [stack.enter_context(GatedSiteServer(s.root, gate, host=f"127.0.0.{n + 2}"))
                   for n, s in enumerate(sites)]
        sources = sources_yaml([(f"site{n}", server.base_url) for n, server in enumerate(servers)],
                               tmp_path / "sources.yaml")
        with pg_database() as ref_url:
            single = run_crawl(sources, ref_url, *FAST_SHARED, timeout=120)
            assert single.returncode == 0, single.stderr[-3000:]
            reference = partition(ref_url)
        expected = SITES * ARTICLES
        assert sum(len(g) for g in reference) == expected
        # the wire copies merge, nothing else does
        assert sorted(len(g) for g in reference) == [1] * (expected - SITES * WIRES) + [SITES] * WIRES
        outcomes, waited = [], []
        for run in range(RUNS):
            for server in servers:
                server.reset_requests()
            with pg_database() as url:
                prefix = f"{redis_prefix}:run{run}"
                gate.clear()  # nothing is answered until every worker has started (a late joiner would start over)
                procs = []
                for w in range(WORKERS):
                    out = (tmp_path / f"run{run}-w{w}.log").open("w")
                    stack.callback(out.close)
                    cmd = crawl_cmd(sources, url, *FAST_SHARED, *LOCKS, "--redis", REDIS_URL, "-s",
                                    f"REDIS_KEY_PREFIX={prefix}")
                    procs.append(subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True,
                                                  env=crawl_env()))
                wait_for_runs(url, WORKERS, procs)
                gate.set()
                codes = [p.wait(120) for p in procs]
                logs = [(tmp_path / f"run{run}-w{w}.log").read_text() for w in range(WORKERS)]
                assert codes == [0] * WORKERS, logs
                urls = stored_urls(url)
                assert len(urls) == len(set(urls)) == expected, f"run {run}: {len(urls)} stored"
                fetched = Counter((r.path, n) for n, server in enumerate(servers) for r in server.requests
                                  if r.path != "/robots.txt")
                assert {k: c for k, c in fetched.items() if c > 1} == {}, f"run {run}: fetched twice"
                stats = [r for (r,) in query(url, select(CrawlRun.stats))]
                locked = sum(st.get("dedup/locked_batches", 0) for st in stats)
                assert (locked > 0) is not LOCKS, f"run {run}: {locked} batches locked"
                waited.append(sum(st.get("dedup/lock_wait_ms", 0) for st in stats))
                got = partition(url)
                outcomes.append(got == reference)
                if got != reference:
                    apart = [sorted(g) for g in got if g not in reference]
                    print(f"run {run}: {len(got)} clusters (reference {len(reference)}): {apart}")
        print(f"identical in {sum(outcomes)}/{RUNS} runs; lock waits per run (ms, all workers): {waited}")
        assert outcomes == [True] * RUNS, f"identical to one process in {sum(outcomes)}/{RUNS} runs"
