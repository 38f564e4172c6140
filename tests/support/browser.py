"""A real browser for the `serve` tests: headless Chromium from the system's packages, driven by Playwright.

Playwright's own browser download is not used: the system's ``chromium``
(Debian package; or ``$CHROMIUM_PATH``) is launched through ``executable_path``.
Without Playwright or Chromium the tests are skipped with the reason, unless
REQUIRE_SERVICES=1 (set by .ci/run), in which case they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    env = os.environ.get("CHROMIUM_PATH")
    if env:
        return env if os.access(env, os.X_OK) else None
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def require_browser() -> str:
    """The Chromium executable; skips (or fails under REQUIRE_SERVICES=1) when it or Playwright is absent."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -r requirements.txt)"
    path = chromium_path()
    if reason is None and path is None:
        reason = "Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)"
    if reason is not None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(reason + " (REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return path  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve *app* with uvicorn on a loopback port in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser(executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()
