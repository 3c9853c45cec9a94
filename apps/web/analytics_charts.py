"""The analytics page's charts, drawn server-side as SVG: latency (avg bar, min–max whisker) and cost per call,
one horizontal bar per model and endpoint. Plain Python over `apps.analytics.selectors.ModelStats`; the template
draws what these return, and the table below the charts is their text alternative."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from apps.analytics.selectors import ModelStats

WIDTH = 640
LABEL_WIDTH, VALUE_WIDTH = 190, 78
TOP, ROW, BOTTOM = 8, 26, 26
MAX_BARS = 12
LABEL_CHARS = 30


@dataclass(frozen=True)
class Bar:
    label: str
    title: str  # the tooltip: every number of the row
    y: float  # top of the bar
    width: float
    value: str
    whisker: tuple[float, float] | None = None  # min and max, as x positions

    @property
    def mid(self) -> float:
        return self.y + (ROW - 8) / 2


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass
class BarChart:
    key: str
    title: str
    summary: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    plot_left: int = LABEL_WIDTH
    plot_right: int = WIDTH - VALUE_WIDTH

    @property
    def height(self) -> int:
        return TOP + ROW * len(self.bars) + BOTTOM

    @property
    def plot_bottom(self) -> int:
        return TOP + ROW * len(self.bars)

    @property
    def value_x(self) -> int:
        return self.plot_right + 6

    @property
    def bar_height(self) -> int:
        return ROW - 8


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:,.0f} ms"


def usd(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "$0"
    # About two significant digits: per-call costs are often fractions of a cent.
    return f"${value:.2f}" if value >= 1 else f"${value:.{max(2, 1 - math.floor(math.log10(value)))}f}"


def _label(row: ModelStats) -> str:
    text = f"{row.model} · {row.endpoint_label}"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _nice(high: float) -> float:
    """The round number (1, 2 or 5 × 10ⁿ) at or above `high`, so the axis ends on a readable tick."""
    if high <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(high))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= high)


def _scale(high: float) -> Callable[[float], float]:
    span = WIDTH - VALUE_WIDTH - LABEL_WIDTH
    return lambda value: round(LABEL_WIDTH + span * min(1.0, value / high), 1)


def _ticks(high: float, fmt: Callable[[float], str], at: Callable[[float], float]) -> list[Tick]:
    return [Tick(at(high * f), fmt(high * f)) for f in (0, 0.5, 1)]


def _busiest(rows: Sequence[ModelStats], keep: Callable[[ModelStats], bool]) -> tuple[list[ModelStats], int]:
    kept = [row for row in rows if keep(row)]
    return sorted(kept, key=lambda row: -row.calls)[:MAX_BARS], len(kept)


def _shown(count: int, total: int) -> str:
    return f" The {count} busiest of {total} are shown." if total > count else ""


def latency_chart(rows: Sequence[ModelStats]) -> BarChart:
    """Average latency as the bar, the range from the fastest to the slowest call as a whisker."""
    shown, total = _busiest(rows, lambda row: row.timed_calls > 0)
    chart = BarChart(key="latency", title="Latency by model (average, min–max)", summary="No timed calls yet.")
    if not shown:
        return chart
    high = _nice(max(row.max_latency_ms or 0 for row in shown))
    at = _scale(high)
    chart.ticks = _ticks(high, ms, at)
    for n, row in enumerate(shown):
        chart.bars.append(Bar(
            label=_label(row), y=TOP + n * ROW + 4, width=max(1.0, at(row.avg_latency_ms) - LABEL_WIDTH),
            value=ms(row.avg_latency_ms), whisker=(at(row.min_latency_ms), at(row.max_latency_ms)),
            title=f"{row.model} on {row.endpoint_label}: average {ms(row.avg_latency_ms)}, fastest "
                  f"{ms(row.min_latency_ms)}, slowest {ms(row.max_latency_ms)} over {row.timed_calls} calls"))
    fast, slow = min(shown, key=lambda r: r.avg_latency_ms), max(shown, key=lambda r: r.avg_latency_ms)
    chart.summary = (f"Fastest on average: {fast.model} on {fast.endpoint_label} ({ms(fast.avg_latency_ms)}); "
                     f"slowest: {slow.model} on {slow.endpoint_label} ({ms(slow.avg_latency_ms)})."
                     + _shown(len(shown), total))
    return chart


def cost_chart(rows: Sequence[ModelStats]) -> BarChart:
    """Cost per call of each priced model."""
    shown, total = _busiest(rows, lambda row: row.cost_per_call_usd is not None)
    chart = BarChart(key="cost", title="Cost per call by model", summary="No priced calls yet: set model prices "
                     "on the endpoint to see costs.")
    if not shown:
        return chart
    high = max(row.cost_per_call_usd for row in shown)
    high = _nice(high) if high > 0 else 1.0
    at = _scale(high)
    chart.ticks = _ticks(high, usd, at)
    for n, row in enumerate(shown):
        chart.bars.append(Bar(
            label=_label(row), y=TOP + n * ROW + 4, width=max(1.0, at(row.cost_per_call_usd) - LABEL_WIDTH),
            value=usd(row.cost_per_call_usd),
            title=f"{row.model} on {row.endpoint_label}: {usd(row.cost_per_call_usd)} a call, "
                  f"{usd(row.total_cost_usd)} over {row.calls} calls"))
    cheap = min(shown, key=lambda r: r.cost_per_call_usd)
    dear = max(shown, key=lambda r: r.cost_per_call_usd)
    chart.summary = (f"Cheapest per call: {cheap.model} on {cheap.endpoint_label} ({usd(cheap.cost_per_call_usd)}); "
                     f"dearest: {dear.model} on {dear.endpoint_label} ({usd(dear.cost_per_call_usd)})."
                     + _shown(len(shown), total))
    return chart
