"""A stats collector for running pipelines outside a Scrapy crawl (``import``), and the
:class:`StatsLike` protocol that both it and Scrapy's ``StatsCollector`` satisfy."""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol


class StatsLike(Protocol):
    """What components built outside a crawl (``X.build(settings, stats, ...)``) use of
    their stats: Scrapy's ``StatsCollector`` in a crawl, :class:`CounterStats` otherwise."""

    def get_value(self, key: str, default: Any = None) -> Any: ...

    def set_value(self, key: str, value: Any) -> None: ...

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class CounterStats:
    """The part of Scrapy's ``StatsCollector`` API that pipelines use."""

    def __init__(self) -> None:
        self._stats: dict[str, Any] = {}

    def get_value(self, key: str, default: Any = None) -> Any:
        return self._stats.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self._stats[key] = value

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self._stats[key] = self._stats.get(key, start) + count

    def max_value(self, key: str, value: Any) -> None:
        self._stats[key] = max(self._stats.get(key, value), value)

    def min_value(self, key: str, value: Any) -> None:
        self._stats[key] = min(self._stats.get(key, value), value)

    def get_stats(self) -> dict[str, Any]:
        return dict(self._stats)

    def prefixed(self, prefix: str) -> Counter[str]:
        """Counts whose key starts with *prefix*, keyed by the rest."""
        return Counter({k[len(prefix):]: v for k, v in self._stats.items() if k.startswith(prefix)})
