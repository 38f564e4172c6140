"""Run the `serve` application with uvicorn."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from crawler.storage.database import Database, describe_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def run(db: Database, host: str, port: int, settings: BaseSettings | None = None, *, cache_seconds: float = 30.0,
        announce: Callable[[str], None] = print) -> None:
    """Serve *db* on host:port until interrupted (Ctrl-C)."""
    import uvicorn

    from crawler.web.app import create_app

    app = create_app(db, settings, cache_seconds=cache_seconds)
    shown = f"[{host}]" if ":" in host else host
    announce(f"serving {describe_url(db.url)} read-only on http://{shown}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
