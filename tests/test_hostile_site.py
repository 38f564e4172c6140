"""A hostile site (gzip bomb, 64 MiB page, redirect loop, tarpit, binary body, 200,000-deep nesting,
offsite redirect, malformed links): the crawl ends by itself, exit 0, with the real articles stored.

The bounds (two minutes, 1 GiB of peak RSS) are limits of correctness, not measurements: the figures
are in docs/benchmarks.md (``python benchmarks/bench_crawl.py --part hostile``).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.storage.models import Article
from tests.support.db import query
from tests.support.hostile import ARTICLES, HostileSite
from tests.support.incsite import REPO, crawl_cmd, crawl_env

LIMIT_SECONDS = 120
LIMIT_RSS_MIB = 1024


def crawl_hostile(site: HostileSite, tmp_path: Path, *extra: str) -> tuple[int, float, float, str, str]:
    """Crawl the site; returns (exit code, seconds, peak RSS MiB of the crawl, stdout, stderr)."""
    sources = site.sources_yaml(tmp_path)
    cmd = crawl_cmd(sources, f"sqlite:///{tmp_path}/hostile.db", "-s", "DOWNLOAD_TIMEOUT=10", *extra)
    started = time.monotonic()
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as fout, err.open("w") as ferr:
        proc = subprocess.Popen(cmd, cwd=REPO, env=crawl_env(), stdout=fout, stderr=ferr)
        deadline = started + LIMIT_SECONDS
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"the crawl of the hostile site did not end within {LIMIT_SECONDS} s")
            time.sleep(0.2)
    return (os.waitstatus_to_exitcode(status), time.monotonic() - started, usage.ru_maxrss / 1024,
            out.read_text(), err.read_text())


@pytest.mark.parametrize("workers", ["1", "0"], ids=["extraction-workers", "in-process"])
def test_hostile_site_crawl_ends_by_itself(tmp_path: Path, workers: str) -> None:
    with HostileSite() as site:
        code, _seconds, rss, out, err = crawl_hostile(site, tmp_path, "-s", f"CLEAN_WORKERS={workers}",
                                                      "-s", "CLEAN_WORKERS_AFTER=0")
        requested = list(site.requests)
    assert code == 0, err[-3000:]
    assert "Crawl finished" in out
    assert rss < LIMIT_RSS_MIB
    stored = {u.rsplit("/", 1)[-1] for (u,) in query(f"sqlite:///{tmp_path}/hostile.db", select(Article.url))}
    assert stored == {f"{i}.html" for i in range(ARTICLES)}  # the real articles, and no trap
    assert {"/news/bomb.html", "/news/big.html", "/news/tarpit.html", "/news/deep.html",
            "/news/binary.html", "/news/links.html"} <= set(requested)  # every trap was met
    assert sum(p.startswith("/news/loop") for p in requested) <= 10  # the redirect loop was cut
