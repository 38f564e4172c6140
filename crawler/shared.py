"""Shared crawl through Redis (``crawl --redis URL``): not implemented yet."""

from __future__ import annotations

from typing import Any


def prepare_shared(settings: Any, redis_url: str) -> None:
    """Configure *settings* for a shared crawl (not implemented yet)."""
    from crawler.cli import fail

    fail("--redis (shared crawl) is not implemented yet")
