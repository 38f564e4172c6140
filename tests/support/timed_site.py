"""A :class:`~crawler.demo.server.SiteServer` that waits a fixed latency per request and logs when each arrived.

For the shared-crawl tests and ``benchmarks/bench_shared.py``: the arrival
times (server side, ``time.monotonic``) show how close together two requests
to one site came, and :attr:`TimedSiteServer.max_in_flight` how many it
answered at once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from crawler.demo.server import SiteServer


class TimedSiteServer(SiteServer):
    """Serve a site folder, ``latency`` seconds per answer, logging ``(arrival, path)``.

    Args:
        root: the site folder.
        latency: seconds added to every answer (a remote site's round trip).
        host: loopback address to bind.
    """

    def __init__(self, root: Path, latency: float = 0.0, host: str = "127.0.0.1") -> None:
        super().__init__(root, host=host)
        self.latency = latency
        self.arrivals: list[tuple[float, str]] = []
        #: ``(arrival, User-Agent)`` of every request: tells workers with different agents apart
        self.agents: list[tuple[float, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._gate = threading.Lock()

    def respond(self, target: str, headers: dict[str, str]) -> Any:
        with self._gate:
            now = time.monotonic()
            self.arrivals.append((now, target))
            self.agents.append((now, next((v for k, v in headers.items() if k.lower() == "user-agent"), "")))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            return super().respond(target, headers)
        finally:
            with self._gate:
                self.in_flight -= 1

    def reset_requests(self) -> None:
        super().reset_requests()
        with self._gate:
            self.arrivals.clear()
            self.agents.clear()
            self.max_in_flight = 0

    def gaps(self) -> list[float]:
        """Seconds between consecutive arrivals."""
        times = sorted(t for t, _ in self.arrivals)
        return [b - a for a, b in zip(times, times[1:])]
