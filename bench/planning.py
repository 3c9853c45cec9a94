"""Planning time of a huge random sweep: n runs drawn from a space of ≥ 10⁹ points.

It builds, through the ORM, a user, an endpoint (never called), and a one-stage, one-item,
one-repeat experiment whose parameter space has 9 axes of 10 values (10⁹ points; numeric ranges
with --ranges), then times, with the same service functions the REST API calls:

* the dry run: `sweep_plan` + `plan_estimate` (what `POST …/sweep {"dry_run": true}` does), and
* the real start: `sweep_start` (plan, insert every Run row, one driver task; no worker runs).

SQLite under a temp DATA_DIR by default; `--postgres URL` creates a scratch database on that
server and drops it afterwards. `--profile` prints the top of a cProfile of each phase
(`--profile-sort tottime` by own time).

    .venv/bin/python bench/planning.py [--n 100000] [--repeat 3] [--ranges] [--profile]
    .venv/bin/python bench/planning.py --postgres postgres://promptlooper:promptlooper@127.0.0.1:5432/postgres

The last line printed is one JSON object: {"dry_run_s", "start_s", "runs"} (medians with --repeat).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _stack  # noqa: E402


def _space(ranges: bool) -> list[dict]:
    """10⁹ points: 9 axes of 10 values each, or (--ranges) the same sizes as stepped and int ranges."""
    if ranges:
        return [
            {"path": "stages.0.params.temperature", "min": 0.1, "max": 1.0, "step": 0.1},
            {"path": "stages.0.params.top_p", "min": 0.05, "max": 0.5, "step": 0.05},
            {"path": "stages.0.params.presence_penalty", "min": -0.9, "max": 0.0, "step": 0.1},
            {"path": "stages.0.params.frequency_penalty", "min": 0.0, "max": 0.9, "step": 0.1},
            {"path": "stages.0.params.seed", "min": 1, "max": 1000, "distribution": "int"},
            {"path": "stages.0.params.max_tokens", "min": 16, "max": 25, "step": 1},
            {"path": "stages.0.params.x_beam", "min": 1, "max": 10, "distribution": "int"},
            {"path": "stages.0.params.x_style", "values": [f"style {k}" for k in range(10)]},
        ]
    space = [
        {"path": "stages.0.params.temperature", "values": [round(0.1 * k, 1) for k in range(1, 11)]},
        {"path": "stages.0.params.top_p", "values": [round(0.05 * k, 2) for k in range(1, 11)]},
        {"path": "stages.0.params.presence_penalty", "values": [round(-0.1 * k, 1) for k in range(10)]},
        {"path": "stages.0.params.frequency_penalty", "values": [round(0.1 * k, 1) for k in range(10)]},
        {"path": "stages.0.params.seed", "values": list(range(1, 11))},
        {"path": "stages.0.params.max_tokens", "values": list(range(16, 26))},
        {"path": "stages.0.params.x_beam", "values": list(range(1, 11))},
        {"path": "stages.0.params.x_style", "values": [f"style {k}" for k in range(10)]},
        {"path": "stages.0.model", "values": [f"fake-chat-{k}" for k in range(10)]},
    ]
    return space


def _setup_django(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("django-q").setLevel(logging.WARNING)


def _fixtures(*, ranges: bool):
    from apps.accounts.models import User
    from apps.endpoints.models import Endpoint
    from apps.experiments.services import experiment_create
    from apps.projects.models import Project

    user = User.objects.create_superuser(username="bench", password="bench password 1234")
    prices = {f"fake-chat-{k}": {"input": 1.0 + k, "output": 2.0} for k in range(10)}
    endpoint = Endpoint.objects.create(owner=user, label="fake", base_url="http://127.0.0.1:9/v1",
                                       model_prices=prices)
    project = Project.objects.create(owner=user, name="Planning benchmark")

    def new_experiment(rep: int):
        return experiment_create(user=user, project=project, data={
            "name": f"planning {rep}",
            "sample_data": [{"id": "i0", "input": "a document about topic 3"}],
            "pipeline_stages": [{
                "name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                "system_prompt": f"You answer in one sentence (repetition {rep}).",
                "prompt_template": "Summarize: {{ input }}",
                "params": {"temperature": 0.5, "max_tokens": 64, "x_beam": 1, "x_style": "plain"},
            }],
            "parameter_space": _space(ranges),
        })

    return user, new_experiment


def _timed(label: str, fn, profile: str | None):
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    result = profiler.runcall(fn) if profiler else fn()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.2f}s wall, {time.process_time() - cpu:.2f}s CPU of this process", flush=True)
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(profile).print_stats(30)
        print(f"cProfile of {label} (inflated by the profiler):\n{text.getvalue()}", flush=True)
    return seconds, result


def run(args) -> dict:
    from apps.runs.models import Run
    from apps.runs.services.estimate import plan_estimate
    from apps.runs.services.planning import sweep_plan
    from apps.runs.services.sweeps import sweep_start, sweep_stop

    user, new_experiment = _fixtures(ranges=args.ranges)
    dry, start, runs = [], [], 0
    for rep in range(args.repeat):
        experiment = new_experiment(rep)
        common = {"kind": "random", "repeats": 1, "n": args.n, "seed": args.seed + rep, "sample_ids": None}

        def dry_run(experiment=experiment, common=common):
            _, plan = _timed("  sweep_plan", lambda: sweep_plan(
                experiment=experiment, parameter_space=experiment.parameter_space, **common), False)
            _, estimate = _timed("  plan_estimate", lambda: plan_estimate(plan, owner_id=user.pk), False)
            return plan, estimate, [r.point for r in plan.runs[:100]]

        def real_start(experiment=experiment, common=common):
            return sweep_start(user=user, experiment=experiment, parameter_space=experiment.parameter_space,
                               budget_tokens=None, budget_usd=None, batch=None, **common)

        seconds, (plan, estimate, _) = _timed("the dry run", dry_run, args.profile and args.profile_sort)
        dry.append(seconds)
        print(f"rep {rep}: dry run {seconds:.2f}s: {len(plan.runs):,} runs, {estimate.calls:,} calls, "
              f"{estimate.uncached_calls:,} uncached, ${estimate.cost_usd:.2f}", flush=True)
        seconds, (sweep, plan) = _timed("the start", real_start, args.profile and args.profile_sort)
        start.append(seconds)
        runs = Run.objects.filter(sweep=sweep).count()
        print(f"rep {rep}: start {seconds:.2f}s: {runs:,} Run rows, {sweep.calls_total:,} calls", flush=True)
        sweep_stop(experiment=experiment)  # so the next repetition may start (and nothing is left pending)
    return {"dry_run_s": round(statistics.median(dry), 3), "start_s": round(statistics.median(start), 3),
            "runs": runs}


def _remove(scratch, tries: int = 30) -> None:
    """Drop the scratch data; autovacuum may still hold the fresh database for a few seconds."""
    for attempt in range(tries):
        try:
            return scratch.remove()
        except Exception as exc:  # noqa: BLE001 — psycopg's InsufficientPrivilege / ObjectInUse
            if attempt == tries - 1:
                raise
            print(f"note: dropping the scratch database failed ({exc.__class__.__name__}); retrying", flush=True)
            time.sleep(2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="points to plan (default 100,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="fresh experiments; the JSON holds medians")
    parser.add_argument("--ranges", action="store_true", help="stepped and int ranges instead of value lists")
    parser.add_argument("--postgres", metavar="URL", help="a server where a scratch database may be created")
    parser.add_argument("--profile", action="store_true", help="cProfile each phase (slower; prints the top)")
    parser.add_argument("--profile-sort", default="cumulative", choices=["cumulative", "tottime"],
                        help="order of the --profile listing (tottime: by own time)")
    args = parser.parse_args(argv)
    scratch = _stack.Scratch(args.postgres)
    try:
        _setup_django({**scratch.env(), "LOG_LEVEL": "WARNING"})
        result = run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _remove(scratch)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
