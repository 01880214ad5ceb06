"""Geometry for the per-day bar chart, drawn as inline SVG by the template (no JS library)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date

from portal.services.reports import DayCounts

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 28


@dataclass(frozen=True)
class Bar:
    series: str  # "opened" or "ended" (closed + lost)
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True)
class DayChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) for horizontal grid lines
    x_labels: list[tuple[float, str]]
    baseline: float
    left: int


def _nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^k at or above `value`, so grid lines fall on round numbers."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def day_chart(days: list[DayCounts]) -> DayChart:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = _nice_max(max([1] + [max(d.opened, d.closed + d.lost) for d in days]))
    slot = plot_w / max(1, len(days))
    bar_w = max(1.0, slot * 0.4)
    baseline = TOP + plot_h
    bars = []
    for i, day in enumerate(days):
        x = LEFT + i * slot + slot * 0.1
        label = format_date(day.day, "short")
        for offset, series, value in ((0, "opened", day.opened), (bar_w, "ended", day.closed + day.lost)):
            height = plot_h * value / top_value
            bars.append(
                Bar(
                    series,
                    round(x + offset, 1),
                    round(baseline - height, 1),
                    round(bar_w, 1),
                    round(height, 1),
                    value,
                    label,
                )
            )
    label_every = max(1, len(days) // 8)
    x_labels = [
        (round(LEFT + i * slot + slot / 2, 1), format_date(day.day, "d MMM"))
        for i, day in enumerate(days)
        if i % label_every == 0
    ]
    ticks = [
        (round(baseline - plot_h * k / 4, 1), top_value * k // 4) for k in range(5) if top_value * k % 4 == 0
    ]
    return DayChart(WIDTH, HEIGHT, bars, ticks, x_labels, baseline, LEFT)
