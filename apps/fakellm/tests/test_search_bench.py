"""bench/search.py runs its planners on the search task and ends with one JSON line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_search_bench_runs_a_tiny_configuration_and_prints_the_json_summary():
    result = subprocess.run(
        [sys.executable, "bench/search.py", "--seeds", "1", "--small", "--items", "2", "--planners",
         "grid,random,prompt_search,no_such_planner"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) == {"grid", "random", "prompt_search"}
    assert summary["grid"]["calls"] == 24 * 2  # 2 models × 3 temperatures × 4 prompts, 2 items each
    assert summary["random"]["calls"] == 6 * 2  # a quarter of the grid's configurations
    # The small grid holds the documented optimum (0.96), so its best score sits within the noise of it.
    assert abs(summary["grid"]["best_score"] - 0.96) <= 0.04
    assert summary["random"]["best_score"] <= summary["grid"]["best_score"]
    assert "no_such_planner: not available" in result.stdout
    # prompt_search pays for its proposer's calls (one a round) on top of its runs' calls.
    line = next(line for line in lines if line.startswith("prompt_search seed 1:"))
    pattern = r"(\d+) calls, (\d+) of them the proposer's \(\+(\d+) cached\), (\d+) runs"
    calls, proposer, cached, runs = map(int, re.search(pattern, line).groups())
    assert proposer >= 1 and calls == summary["prompt_search"]["calls"] == runs * 2 - cached + proposer
