"""A second SIGTERM during the graceful shutdown does not abandon it: the pending batch is stored
(no index rows for articles never stored) and the run is closed, not left 'running'."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from crawler.demo.server import SiteServer
from tests.support.incsite import IncSite
from tests.test_crash import N, _runs, _start_and_wait, _stored


def test_second_sigterm_still_finishes_the_writes(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'news.db'}"
    site = IncSite(tmp_path / "site", N)
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        proc = _start_and_wait(sources, db_url, 1)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        assert "still finishing the pending writes" in out + err
        ok = {r.path for r in server.requests if r.path.startswith("/news/") and r.status == 200}
        stored = {u.split("/", 3)[-1] for u in _stored(db_url)}
        assert len({p.lstrip("/") for p in ok} - stored) <= 1  # at most the page in flight
        assert 1 <= len(stored) < N
    assert _runs(db_url) == [("finished", "shutdown")]
