"""Plain-text output: tables for a terminal or a CI log, and the sweep progress line on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def short(value: Any, limit: int = 32) -> str:
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else f"{value:g}"
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def point_text(point: dict, labels: dict[str, str]) -> str:
    """`temperature=0.3 model=m1`: each axis by its last path segment, endpoint ids as labels."""
    names = [path.rsplit(".", 1)[-1] for path in point]
    parts = []
    for (path, value), name in zip(point.items(), names, strict=True):
        key = name if names.count(name) == 1 else path
        parts.append(f"{key}={short(labels.get(value, value) if isinstance(value, str) else value)}")
    return " ".join(parts) or "(base config)"


def score_text(score: float | None, ci: list | None) -> str:
    if score is None:
        return "—"
    if ci:
        return f"{score:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
    return f"{score:.3f}"


class Progress:
    """Runs done of total, tokens, cost and cache hits, redrawn in place on a terminal, one line per change in a log."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = ""

    def update(self, sweep: dict) -> None:
        done, total = sweep["runs_done"], sweep["runs_total"]
        width = 24
        filled = round(width * done / total) if total else 0
        tokens = sweep["tokens_in"] + sweep["tokens_out"]
        text = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs · {tokens:,} tokens · "
                f"${float(sweep['cost_usd'] or 0):.4f} · {sweep['cache_hits']} cache hits · {sweep['status']}")
        if text == self.last:
            return
        self.last = text
        self.stream.write(("\r" + text + "\x1b[K") if self.tty else text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def when(iso: str | None) -> str:
    """`2025-05-01 14:03` from the server's ISO 8601 timestamp (its own time zone)."""
    return iso[:16].replace("T", " ") if iso else "—"


def ab_test_text(ab_test: dict) -> str:
    """`v1 vs v2 (v1 50% · v2 50%)`: the test's name and its traffic split by version."""
    variants = ab_test.get("variants") or []
    total = sum(v["weight"] for v in variants) or 1
    split = " · ".join(f"v{v['version_number']} {round(100 * v['weight'] / total)}%" for v in variants)
    return f"{ab_test['name']} ({split})" if split else ab_test["name"]
