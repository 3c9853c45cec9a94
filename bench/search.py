"""Search quality per call: grid, random, tpe, halving and prompt_search on a task with a known optimum.

The task is the fake server's `search-*` mode (apps/fakellm/search_task.py): a reply's keyword
score is a documented function of model, temperature and system prompt wording, plus bounded
noise. The grid is 4 models × 11 temperatures × 12 prompts = 528 configurations (--small: 2 × 3 ×
4 = 24), each run on --items sample items (default 8). For every seed, each planner runs on a fresh experiment:
started through `POST /api/v1/experiments/{id}/sweep` in-process (the REST API's validation and
services), then driven to the end by the real driver in this process (`apps.runs.driver.sweep_drive`,
as the tests do), against the fake server in its own process with no latency. SQLite in a temp
DATA_DIR. A planner that is not registered yet prints "not available".

Per sweep it records the best score (the best weighted score of a run scored on every item), the
true quality of that run's config (the noise-free function) and the calls used: the LLM calls the
sweep paid for, prompt_search's proposer calls included. Each sweep has its own owner, so its response
cache starts cold; what it reads back from its own cache (a halving survivor's earlier items) is free
and printed as "cached".

    .venv/bin/python bench/search.py [--seeds 5] [--items 4] [--small] [--planners grid,tpe]

The last line is one JSON object: per planner the median best_score and calls over the seeds.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _stack  # noqa: E402

PLANNER_NAMES = ["grid", "random", "tpe", "halving", "prompt_search"]
BUDGET_SHARE = 0.25  # random and tpe get a quarter of the grid's configurations
PROMPT_ROUNDS = 5


def _setup_django(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("django-q").setLevel(logging.WARNING)


def _space(small: bool) -> list[dict]:
    from apps.fakellm.search_task import MODELS, PROMPT_VARIANTS

    # Temperature as a stepped range (0, 0.1 … 1), as a user would declare it: the same grid points as
    # a list of values, and tpe sees them as ordered (an integer over the grid indices).
    models, temperatures, prompts = list(MODELS), {"min": 0, "max": 1, "step": 0.1}, PROMPT_VARIANTS
    if small:
        models, temperatures = ["search-base", "search-pro"], {"min": 0.2, "max": 1.0, "step": 0.4}
        prompts = [*PROMPT_VARIANTS[::4], PROMPT_VARIANTS[-1]]
    return [
        {"path": "stages.0.model", "values": models},
        {"path": "stages.0.params.temperature", **temperatures},
        {"path": "stages.0.system_prompt", "values": prompts},
    ]


def _grid_size(space: list[dict]) -> int:
    from apps.engine.planners.space import parse_space, space_size

    return space_size(parse_space(space))


class Bench:
    """The search task's items and space, and a builder of fresh experiments, each with its own owner.

    A response cache belongs to its owner, so an owner per sweep gives every sweep a cold cache: its
    uncached calls are what it paid for, whatever ran before it.
    """

    def __init__(self, *, base_url: str, items: int, small: bool) -> None:
        from apps.accounts.models import User

        User.objects.create_superuser(username="bench", password="bench password 1234")  # setup is complete
        self.base_url = base_url
        self.items = [{"id": f"q{k}", "input": f"Question {k}: how many moons does planet {k} have?"}
                      for k in range(items)]
        self.space = _space(small)
        self.count = 0
        self.endpoint = None

    def _owner(self):
        """A fresh user with an endpoint at the fake server, a project and a signed-in API client."""
        from rest_framework.test import APIClient

        from apps.accounts.models import User
        from apps.accounts.tokens import token_issue
        from apps.endpoints.services import endpoint_create
        from apps.projects.services import project_create

        self.count += 1
        user = User.objects.create_user(username=f"searcher{self.count}", password=None)
        self.endpoint = endpoint_create(owner=user, label="fake", base_url=self.base_url, max_concurrency=32)
        project = project_create(owner=user, name="Search benchmark")
        self.api = APIClient(HTTP_HOST="127.0.0.1")
        token, _ = token_issue(user_id=user.pk)
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return user, project

    def experiment(self, *, space: list[dict], system_prompt: str, model: str = "search-base",
                   temperature: float = 1.0):
        from apps.experiments.services import experiment_create
        from apps.fakellm.search_task import FACTS

        user, project = self._owner()
        return experiment_create(user=user, project=project, data={
            "name": f"search {self.count}",
            "sample_data": self.items,
            "pipeline_stages": [{
                "name": "answer", "endpoint": str(self.endpoint.pk), "model": model,
                "system_prompt": system_prompt, "prompt_template": "{{ input }}",
                "params": {"temperature": temperature, "max_tokens": 100},
            }],
            "parameter_space": space,
            "scoring_config": {"scorers": [{"type": "keyword", "weight": 1,
                                            "options": {"keywords": FACTS, "mode": "all"}}]},
        })

    def sweep(self, experiment, body: dict) -> dict:
        """Start a sweep through the REST API, drive it here to the end; its best score and calls."""
        from django.db.models import Max, Sum

        from apps.fakellm.search_task import quality
        from apps.runs.driver import sweep_drive
        from apps.runs.models import Run, Sweep

        response = self.api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")
        if response.status_code != 202:
            raise RuntimeError(f"{body['type']} sweep refused ({response.status_code}): {response.content[:600]!r}")
        sweep_id = response.json()["sweep"]["id"]
        started = time.perf_counter()
        sweep_drive(sweep_id)
        seconds = time.perf_counter() - started
        sweep = Sweep.objects.get(pk=sweep_id)
        runs = Run.objects.filter(sweep=sweep)
        totals = runs.aggregate(calls=Sum("calls"), cached=Sum("cache_hits"))
        calls, cached = totals["calls"] or 0, totals["cached"] or 0
        # Calls the planner makes itself (prompt_search's proposer) are paid for like any other.
        proposer = ((sweep.request or {}).get("planner_usage") or {}).get("calls", 0)
        full = runs.filter(calls__gte=len(self.items) * sweep.repeats, weighted_score__isnull=False)
        best_score = full.aggregate(best=Max("weighted_score"))["best"]
        best = full.order_by("-weighted_score", "position").first()
        stage = best.config["stages"][0] if best else {}
        true = quality(model=stage.get("model", ""), temperature=stage.get("params", {}).get("temperature", 1.0),
                       prompt=stage.get("system_prompt", "")) if best else None
        return {"best_score": best_score, "first_round_090": _first_round(sweep, 0.9), "true_quality": true,
                "calls": calls - cached + proposer, "cached": cached, "proposer": proposer,
                "runs": runs.count(),
                "status": sweep.status, "seconds": seconds,
                "prompt": stage.get("system_prompt") if body["type"] == "prompt_search" else None}


def _requests(bench: Bench, seed: int, endpoint_id: str) -> dict[str, tuple[dict, dict]]:
    """Per planner: (experiment kwargs, sweep request body); the proposer is the experiment owner's endpoint."""
    from apps.fakellm.search_task import OPTIMUM, PROPOSER_MODEL, WEAK_PROMPT

    budget = math.ceil(_grid_size(bench.space) * BUDGET_SHARE)
    search = {"space": bench.space, "system_prompt": WEAK_PROMPT}
    # prompt_search rewrites the system prompt alone, at the best model and temperature, from a weak seed.
    prompt = {"space": [{"path": "stages.0.system_prompt", "values": [WEAK_PROMPT]}], "system_prompt": WEAK_PROMPT,
              "model": OPTIMUM["model"], "temperature": OPTIMUM["temperature"]}
    return {
        "grid": (search, {"type": "grid"}),
        "random": (search, {"type": "random", "n": budget, "seed": seed}),
        "tpe": (search, {"type": "tpe", "n": budget, "seed": seed, "batch": 8}),
        "halving": (search, {"type": "halving", "seed": seed}),
        "prompt_search": (prompt, {"type": "prompt_search", "seed": seed, "options": {
            "proposer": {"endpoint": endpoint_id, "model": PROPOSER_MODEL}, "rounds": PROMPT_ROUNDS}}),
    }


def run(args) -> dict:
    from apps.engine.planners import PLANNERS

    bench = Bench(base_url=args.base_url, items=args.items, small=args.small)
    wanted = [name for name in args.planners.split(",") if name]
    grid_configs = _grid_size(bench.space)
    print(f"task: {grid_configs} grid configurations × {args.items} items = {grid_configs * args.items:,} calls "
          f"for the grid; random and tpe get n = {math.ceil(grid_configs * BUDGET_SHARE)}", flush=True)
    results: dict[str, list[dict]] = {}
    for name in wanted:
        if not _available(PLANNERS, name):
            continue
        results[name] = []
        for seed in range(1, args.seeds + 1):
            if name == "grid" and results[name]:
                results[name].append(results[name][0])  # the grid ignores the seed: the same sweep again
                continue
            experiment = bench.experiment(**_requests(bench, seed, "")[name][0])
            body = _requests(bench, seed, str(bench.endpoint.pk))[name][1]
            try:
                outcome = bench.sweep(experiment, body)
            except RuntimeError as exc:
                print(f"{name} seed {seed}: {exc}", flush=True)
                continue
            results[name].append(outcome)
            _print_outcome(name, seed, outcome)
    return _summary(results)


def _print_outcome(name: str, seed: int, o: dict) -> None:
    prompt = f", ≥ 0.9 from round {o['first_round_090']}, prompt {o['prompt']!r}" if o["prompt"] else ""
    proposer = f", {o['proposer']} of them the proposer's" if o["proposer"] else ""
    print(f"{name} seed {seed}: best {_fmt(o['best_score'])} (true {_fmt(o['true_quality'])}), {o['calls']:,} "
          f"calls{proposer} (+{o['cached']:,} cached), {o['runs']} runs, {o['status']}, {o['seconds']:.1f}s{prompt}",
          flush=True)


def _first_round(sweep, threshold: float) -> int | None:
    """prompt_search: the first round whose variant scored at least `threshold` (None: none did)."""
    if sweep.kind != "prompt_search":
        return None
    candidates = (((sweep.request or {}).get("guided") or {}).get("state") or {}).get("candidates") or []
    rounds = [c["round"] for c in candidates if c.get("score") is not None and c["score"] >= threshold]
    return min(rounds) if rounds else None


def _available(planners, name: str) -> bool:
    if name not in planners:
        print(f"{name}: not available (no planner of that kind is registered)", flush=True)
        return False
    try:
        planners.get(name)
    except ImportError as exc:
        print(f"{name}: not available ({exc})", flush=True)
        return False
    return True


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _summary(results: dict[str, list[dict]]) -> dict:
    summary = {}
    for name, outcomes in results.items():
        if outcomes:
            summary[name] = {"best_score": _median([o["best_score"] for o in outcomes]),
                             "calls": _median([o["calls"] for o in outcomes]),
                             "true_quality": _median([o["true_quality"] for o in outcomes]),
                             "worst": min((o["best_score"] for o in outcomes if o["best_score"] is not None),
                                          default=None)}
    grid = summary.get("grid")
    print(f"\n{'planner':<14} {'seeds':>5} {'best score':>10} {'true q':>7} {'worst seed':>10} {'calls':>7} "
          f"{'vs grid best':>12} {'vs grid calls':>13}")
    for name, row in summary.items():
        versus = "–"
        if grid and grid["best_score"] and row["best_score"] is not None:
            versus = f"{100 * row['best_score'] / grid['best_score']:.1f}%"
        share = f"{100 * row['calls'] / grid['calls']:.1f}%" if grid and grid["calls"] else "–"
        print(f"{name:<14} {len(results[name]):>5} {_fmt(row['best_score']):>10} {_fmt(row['true_quality']):>7} "
              f"{_fmt(row['worst']):>10} {row['calls']:>7,.0f} {versus:>12} {share:>13}")
    return {name: {"best_score": None if row["best_score"] is None else round(row["best_score"], 4),
                   "calls": round(row["calls"])} for name, row in summary.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--items", type=int, default=8, help="sample items per configuration (default 8)")
    parser.add_argument("--small", action="store_true", help="a 24-configuration grid (a smoke test)")
    parser.add_argument("--planners", default=",".join(PLANNER_NAMES), help="comma-separated sweep types")
    args = parser.parse_args(argv)
    scratch = _stack.Scratch(None)
    fake = None
    try:
        fake, args.base_url = _stack.start_fake_llm(latency_ms=0, log=scratch.dir / "fakellm.log")
        _setup_django({**scratch.env(), "LOG_LEVEL": "WARNING"})
        result = run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _stack.stop(fake)
        scratch.remove()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
