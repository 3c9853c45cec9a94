"""bench/search.py runs its planners on the search task and ends with one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_search_bench_runs_a_tiny_configuration_and_prints_the_json_summary():
    result = subprocess.run(
        [sys.executable, "bench/search.py", "--seeds", "1", "--small", "--items", "2", "--planners",
         "grid,random,no_such_planner"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) == {"grid", "random"}
    assert summary["grid"]["calls"] == 24 * 2  # 2 models × 3 temperatures × 4 prompts, 2 items each
    assert summary["random"]["calls"] == 6 * 2  # a quarter of the grid's configurations
    # The small grid holds the documented optimum (0.96), so its best score sits within the noise of it.
    assert abs(summary["grid"]["best_score"] - 0.96) <= 0.04
    assert summary["random"]["best_score"] <= summary["grid"]["best_score"]
    assert "no_such_planner: not available" in result.stdout
