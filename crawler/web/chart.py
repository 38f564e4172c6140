"""Articles per day per source as a stacked bar chart, drawn as SVG data on the server.

The template turns :class:`Chart` into ``<svg>`` elements; colours are CSS
classes (``s0`` ... ``s9``) of the shipped style sheet, so nothing inline
needs a style permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28
COLOURS = 10


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    colour: int
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    legend: list[tuple[int, str, int]] = field(default_factory=list)  # colour, site, total
    days: int = 0
    first: str = ""
    last: str = ""
    plot: tuple[int, int, int, int] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)

    @property
    def empty(self) -> bool:
        return not self.bars


def _nice(n: int) -> int:
    for step in (1, 2, 5):
        for scale in (1, 10, 100, 1000, 10_000, 100_000, 1_000_000):
            if step * scale * 4 >= n:
                return step * scale
    return max(1, n // 4)


def build_chart(counts: dict[tuple[str, str], int], first: date, last: date) -> Chart:
    """A chart of *counts* ((day ISO, site) -> articles) for the days *first* .. *last*."""
    days = [(first + timedelta(d)).isoformat() for d in range((last - first).days + 1)]
    sites = sorted({s for _, s in counts}, key=lambda s: -sum(n for (_, t), n in counts.items() if t == s))
    colour = {s: i % COLOURS for i, s in enumerate(sites)}
    chart = Chart(days=len(days), first=days[0] if days else "", last=days[-1] if days else "")
    chart.legend = [(colour[s], s, sum(n for (_, t), n in counts.items() if t == s)) for s in sites]
    if not counts or not days:
        return chart
    totals = {d: sum(counts.get((d, s), 0) for s in sites) for d in days}
    peak = max(totals.values()) or 1
    step = _nice(peak)
    top = step * -(-peak // step)
    x0, y0, x1, y1 = chart.plot
    slot = (x1 - x0) / len(days)
    scale = (y1 - y0) / top
    for i, d in enumerate(days):
        y = float(y1)
        for s in sites:
            n = counts.get((d, s), 0)
            if not n:
                continue
            h = n * scale
            y -= h
            chart.bars.append(Bar(round(x0 + i * slot + slot * 0.1, 1), round(y, 1), round(max(slot * 0.8, 1), 1),
                                  round(h, 1), colour[s], f"{d} {s}: {n}"))
    every = max(1, len(days) // 6)
    chart.x_labels = [(round(x0 + i * slot + slot / 2, 1), d[5:]) for i, d in enumerate(days) if i % every == 0]
    chart.y_ticks = [(round(y1 - v * scale, 1), f"{v:,}") for v in range(0, top + 1, step)]
    return chart
