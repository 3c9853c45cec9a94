"""The score chart's geometry, drawn server-side as SVG: score against each swept parameter, and best so far.

Plain Python over `apps.runs.board.ChartData` (already bounded to a sample of runs); the template draws
what these return. Scores live in [0, 1], so every plot shares one y scale.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.runs.board import ChartData, ChartRun

WIDTH, HEIGHT = 320, 190
LEFT, RIGHT, TOP, BOTTOM = 38, 12, 10, 42
MAX_CATEGORIES = 12
LABEL_CHARS = 14


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass
class Plot:
    key: str
    title: str
    x_label: str
    summary: str
    dots: list[Dot] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    line: str = ""  # an SVG path (best so far)
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def y_ticks(self) -> list[Tick]:
        return [Tick(_y(value), f"{value:.1f}") for value in (0.0, 0.5, 1.0)]

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return WIDTH - RIGHT

    @property
    def plot_bottom(self) -> int:
        return HEIGHT - BOTTOM

    @property
    def plot_top(self) -> int:
        return TOP


def _y(score: float) -> float:
    return round(TOP + (1 - min(1.0, max(0.0, score))) * (HEIGHT - TOP - BOTTOM), 1)


def _x(fraction: float) -> float:
    return round(LEFT + fraction * (WIDTH - LEFT - RIGHT), 1)


def value_label(value: Any) -> str:
    """A parameter value as short text (prompts are long: the start of them)."""
    if value is None:
        return "–"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _numeric(values: Sequence[Any]) -> bool:
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def score_charts(data: ChartData, axes: Sequence[str]) -> list[Plot]:
    """One scatter per swept parameter, then best so far by finish order."""
    plots = [axis_plot(index, path, data.sample) for index, path in enumerate(axes)]
    plots.append(best_so_far_plot(data))
    return plots


def axis_plot(index: int, path: str, runs: Sequence[ChartRun]) -> Plot:
    name = path.rsplit(".", 1)[-1]
    values = [run.point.get(path) for run in runs]
    if _numeric(values):
        return _numeric_plot(index, path, name, runs)
    return _categorical_plot(index, path, name, runs)


def _numeric_plot(index: int, path: str, name: str, runs: Sequence[ChartRun]) -> Plot:
    low = min(run.point[path] for run in runs)
    high = max(run.point[path] for run in runs)
    spread = (high - low) or 1.0

    def at(value: float) -> float:
        return _x(0.5 if high == low else (value - low) / spread)

    dots = [Dot(at(run.point[path]), _y(run.score), f"score {run.score:.3f} · {name} = {run.point[path]}")
            for run in runs]
    ticks = [Tick(at(low), value_label(low))] + ([Tick(at(high), value_label(high))] if high != low else [])
    best = max(runs, key=lambda run: run.score)
    summary = f"{name}: the best score, {best.score:.3f}, came at {name} = {best.point[path]}."
    return Plot(key=f"axis-{index}", title=f"Score by {name}", x_label=path, summary=summary, dots=dots,
                x_ticks=ticks)


def _categorical_plot(index: int, path: str, name: str, runs: Sequence[ChartRun]) -> Plot:
    groups: dict[str, list[ChartRun]] = defaultdict(list)
    for run in runs:
        groups[value_label(run.point.get(path))].append(run)
    labels = sorted(groups, key=lambda label: -len(groups[label]))[:MAX_CATEGORIES]
    labels.sort()
    column = 1 / max(1, len(labels))
    dots, ticks = [], []
    for position, label in enumerate(labels):
        center = (position + 0.5) * column
        ticks.append(Tick(_x(center), label))
        members = groups[label]
        for offset, run in enumerate(members):
            # Spread a column's dots sideways (deterministically) so equal scores stay visible.
            jitter = ((offset * 37) % 11 - 5) / 10 * column * 0.6
            dots.append(Dot(_x(center + jitter), _y(run.score), f"score {run.score:.3f} · {name} = {label}"))
    means = {label: sum(run.score for run in groups[label]) / len(groups[label]) for label in labels}
    top = max(means, key=means.get) if means else "–"
    summary = (f"{name}: the highest mean score is {means[top]:.3f}, for {top} ({len(groups[top])} runs)."
               if means else f"{name}: no runs yet.")
    return Plot(key=f"axis-{index}", title=f"Score by {name}", x_label=path, summary=summary, dots=dots,
                x_ticks=ticks)


def best_so_far_plot(data: ChartData) -> Plot:
    total = max(1, data.total)

    def at(order: int) -> float:
        return _x(0.5 if total == 1 else (order - 1) / (total - 1))

    dots, segments = [], []
    for order, score in data.steps:
        x, y = at(order), _y(score)
        segments.append(f"H {x} V {y}" if segments else f"M {x} {y}")
        dots.append(Dot(x, y, f"run {order} of {data.total} to finish: best so far {score:.3f}"))
    if segments:
        segments.append(f"H {at(total)}")
    ticks = [Tick(at(1), "1")] + ([Tick(at(total), str(total))] if total > 1 else [])
    if data.steps:
        order, score = data.steps[-1]
        summary = (f"Best so far: {score:.3f}, reached by run {order} of {data.total} to finish; "
                   f"it improved {len(data.steps) - 1} times after the first run.")
    else:
        summary = "Best so far: no scored runs yet."
    return Plot(key="best", title="Best so far", x_label="runs, in the order they finished", summary=summary,
                dots=dots, x_ticks=ticks, line=" ".join(segments))
