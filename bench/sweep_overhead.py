"""Sweep engine overhead against the ideal: N calls of latency L at concurrency C take ≥ N·L/C.

Each case builds a fresh stack: the fake LLM server in its own process, a fresh DATA_DIR
(SQLite, or a scratch database with --postgres), a user, an endpoint (max_concurrency = C), a
one-stage experiment whose items × grid points make exactly N calls, and a real django-q2 worker
(`manage.py qcluster`, Q_WORKERS=1). A sweep is timed from its start request (the REST API
in-process: it commits and enqueues to the ORM broker as production does) to status `completed`
in the database (polled every 10 ms); then an identical, fully cached sweep is timed the same way.

    .venv/bin/python bench/sweep_overhead.py [--repeat 3]          # 200 and 1,000 calls × C 4, 16, 64
    .venv/bin/python bench/sweep_overhead.py --calls 1000 --concurrency 16 [--latency-ms 50]
    .venv/bin/python bench/sweep_overhead.py --calls 1000 --concurrency 64 --profile [timing]
    .venv/bin/python bench/sweep_overhead.py --calls 1000 --concurrency 64 --py-spy /tmp/worker.txt

Per case it also runs the same calls through the HTTP client alone (the "client floor"), reports
CPU seconds per process, and splits each sweep into request, queue pickup, driver startup,
execution, finishing and detection. `--profile` runs the driver in this process instead of the
worker: cProfile of both threads, or (`timing`) only thread CPU, database calls and event-loop lag.
The last line printed is one JSON object (the last case; medians with --repeat). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _stack  # noqa: E402

DEFAULT_CALLS = [200, 1000]
DEFAULT_CONCURRENCY = [4, 16, 64]
SCORER = {"type": "length", "name": "brevity", "weight": 1, "options": {"unit": "words", "max": 40}}
POLL_S = 0.01  # how often the bench reads the sweep's status (--poll-ms)


@dataclass
class Timing:
    wall_s: float
    phases: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    cache_hits: int = 0


def _shape(calls: int, items_per_run: int) -> tuple[int, int]:
    """(items, grid points) with items × points == calls, items the largest divisor ≤ items_per_run."""
    items = max(d for d in range(1, min(items_per_run, calls) + 1) if calls % d == 0)
    return items, calls // items


def _setup_django(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("django-q").setLevel(logging.WARNING)  # no "Enqueued" line per sweep


def _make_fixtures(*, base_url: str, calls: int, concurrency: int, items_per_run: int, scorer: bool):
    """An admin user and an endpoint at the fake server; returns (start, new_experiment, shape).

    Each `new_experiment(rep)` has exactly `calls` calls and prompts no earlier one sent, so its
    first sweep is uncached.
    """
    from apps.accounts.models import User
    from apps.endpoints.services import endpoint_create
    from apps.experiments.services import experiment_create
    from apps.projects.services import project_create

    user = User.objects.create_superuser(username="bench", password="bench password 1234")
    endpoint = endpoint_create(owner=user, label="fake", base_url=base_url, max_concurrency=concurrency)
    project = project_create(owner=user, name="Benchmark")
    n_items, points = _shape(calls, items_per_run)

    def new_experiment(rep: int):
        return experiment_create(user=user, project=project, data={
            "name": f"{calls} calls, repetition {rep}",
            "sample_data": [{"id": f"i{k}", "input": f"document number {k} about topic {k % 7}"}
                            for k in range(n_items)],
            "pipeline_stages": [{
                "name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                "system_prompt": f"You answer in one sentence (repetition {rep}).",
                "prompt_template": "Summarize: {{ input }}", "params": {"temperature": 0.5, "max_tokens": 64},
            }],
            "parameter_space": [{"path": "stages.0.params.seed", "values": list(range(points))}],
            **({"scoring_config": {"scorers": [SCORER]}} if scorer else {}),
        })

    return _sweep_starter(_client_for(user)), new_experiment, (n_items, points)


def _client_for(user):
    """An in-process API client authenticated as `user` with a bearer token."""
    from rest_framework.test import APIClient

    from apps.accounts.tokens import token_issue

    client = APIClient()
    token, _ = token_issue(user_id=user.pk)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _sweep_starter(client):
    """POST /api/v1/experiments/{id}/sweep in-process: (status code, JSON body).

    Through the whole stack (URLconf, middleware) when the URLconf imports; while another part
    of the tree is mid-edit and it does not, the view is called directly (auth, parsing, service).
    """
    body = {"type": "grid"}
    try:
        import promptlooper.urls  # noqa: F401
    except Exception as exc:  # noqa: BLE001 — an unrelated app's import error
        from rest_framework.test import APIRequestFactory

        from apps.api.runs import SweepStartApi

        print(f"note: the URLconf does not import ({exc!r}); calling SweepStartApi without middleware")
        factory, view = APIRequestFactory(), SweepStartApi.as_view()
        auth = client._credentials["HTTP_AUTHORIZATION"]

        def post_view(experiment):
            url = f"/api/v1/experiments/{experiment.pk}/sweep"
            response = view(factory.post(url, body, format="json", HTTP_AUTHORIZATION=auth),
                            experiment_id=experiment.pk)
            response.render()
            return response.status_code, json.loads(response.content)

        return post_view
    client.defaults["HTTP_HOST"] = "127.0.0.1"

    def post(experiment):
        response = client.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")
        return response.status_code, json.loads(response.content)

    return post


# One timed sweep -------------------------------------------------------------------------------------
def timed_sweep(start, experiment, *, timeout_s: float, worker_log: Path | None, cpu: dict[str, int],
                drive=None, poll_s: float = POLL_S) -> Timing:
    """Start a sweep through the REST API and wait for `completed`; phases from DB and worker log times.

    `cpu` names the processes whose CPU time (with their descendants) is reported, by pid.
    """
    from django.db.models import Max, Min

    from apps.runs.models import Run, Sweep

    def used(name: str, pid: int) -> float:
        return _stack.cpu_seconds(pid, tree=name != "bench")  # the bench's children are reported apart

    cpu_before = {name: used(name, pid) for name, pid in cpu.items()}
    offset = time.time() - time.perf_counter()  # perf_counter → epoch seconds
    t0 = time.perf_counter()
    status_code, reply = start(experiment)
    t_api = time.perf_counter()
    if status_code != 202:
        raise RuntimeError(f"sweep start failed: {status_code} {str(reply)[:500]}")
    sweep_id = reply["sweep"]["id"]
    if drive is not None:
        drive(sweep_id)  # --profile: the driver runs here, in this process
    while True:
        status = Sweep.objects.filter(pk=sweep_id).values_list("status", flat=True).first()
        if status == Sweep.Status.COMPLETED:
            break
        if status in (Sweep.Status.FAILED, Sweep.Status.PAUSED, Sweep.Status.STOPPED):
            raise RuntimeError(f"sweep {sweep_id} ended {status}")
        if time.perf_counter() - t0 > timeout_s:
            tail = worker_log.read_text(errors="replace")[-3000:] if worker_log else ""
            raise RuntimeError(f"sweep {sweep_id} not completed after {timeout_s:g}s (status {status})\n{tail}")
        time.sleep(poll_s)
    t_done = time.perf_counter()
    cpu_used = {name: used(name, pid) - cpu_before[name] for name, pid in cpu.items()}

    sweep = Sweep.objects.get(pk=sweep_id)
    span = Run.objects.filter(sweep_id=sweep_id).aggregate(first=Min("started_at"), last=Max("completed_at"))
    not_done = Run.objects.filter(sweep_id=sweep_id).exclude(status__in=["completed", "cached"]).count()
    if not_done:
        raise RuntimeError(f"{not_done} run(s) of sweep {sweep_id} did not complete")
    first_claim, last_done = span["first"].timestamp(), span["last"].timestamp()
    picked = _stack.log_times(worker_log, f"processing sweep {sweep_id}") if worker_log else []
    phases = {"request": t_api - t0}
    if picked:  # worker log lines have millisecond stamps
        phases["pickup"] = picked[0] - (t_api + offset)
        phases["startup"] = first_claim - picked[0]
    else:
        phases["pickup+startup"] = first_claim - (t_api + offset)
    phases["execute"] = last_done - first_claim
    phases["finish"] = sweep.finished_at.timestamp() - last_done
    phases["detect"] = (t_done + offset) - sweep.finished_at.timestamp()
    return Timing(wall_s=t_done - t0, phases=phases, cpu=cpu_used, calls=sweep.calls_total,
                  cache_hits=sweep.cache_hits)


# A case --------------------------------------------------------------------------------------------
def run_case(args) -> dict:
    calls, concurrency = args.calls[0], args.concurrency[0]
    latency_ms = int(args.latency_ms) if float(args.latency_ms).is_integer() else args.latency_ms
    ideal = calls * latency_ms / 1000 / concurrency
    scratch = _stack.Scratch(args.postgres)
    fake = worker = spy = None
    worker_log = scratch.dir / "qcluster.log"
    pairs: list[tuple[Timing, Timing]] = []
    rss: dict[str, tuple[float, float]] = {}
    try:
        fake, base_url = _stack.start_fake_llm(latency_ms=latency_ms, log=scratch.dir / "fakellm.log")
        env = scratch.env()
        _setup_django(env)
        start, new_experiment, (n_items, points) = _make_fixtures(
            base_url=base_url, calls=calls, concurrency=concurrency, items_per_run=args.items_per_run,
            scorer=args.scorer)
        print(f"case: {calls} calls ({points} runs × {n_items} items, 1 stage), C={concurrency}, "
              f"L={latency_ms:g} ms, {'postgres' if args.postgres else 'sqlite'}"
              f"{', a length scorer' if args.scorer else ''}"
              f"{f', driver in-process ({args.profile})' if args.profile else ''}; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        drive = _stack.DriverProfiler(cprofile=args.profile == "cprofile") if args.profile else None
        if drive is None:
            worker = _stack.start_worker(env=env, log=worker_log)
            time.sleep(args.settle_s)
            if args.py_spy:
                spy = _stack.start_py_spy(pid=worker.pid, out=Path(args.py_spy))
        rss["idle"] = _rss(drive, worker)
        timeout = max(60.0, ideal * 20)
        log = None if drive else worker_log
        cpu = {"bench": os.getpid(), "fake LLM": fake.pid, **({} if drive else {"worker": worker.pid})}
        for rep in range(args.repeat):
            experiment = new_experiment(rep)
            timing = dict(timeout_s=timeout, worker_log=log, cpu=cpu, drive=drive, poll_s=args.poll_ms / 1000)
            fresh = timed_sweep(start, experiment, **timing)
            cached = timed_sweep(start, experiment, **timing)
            if cached.cache_hits != cached.calls:
                raise RuntimeError(f"re-run was not fully cached: {cached.cache_hits} of {cached.calls} hits")
            pairs.append((fresh, cached))
        rss["peak"] = _rss(drive, worker)
        floor = None if args.no_floor else client_floor(base_url, calls, concurrency)
        if spy is not None:
            _stack.stop_py_spy(spy)
            spy = None
    finally:
        _stack.stop(spy)
        _stack.stop(worker)
        _stack.stop(fake)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 — Django may not be set up yet
            pass
        if args.keep:
            print(f"kept {scratch.dir}", flush=True)
        else:
            scratch.remove()

    _print_case(pairs, ideal, rss, profiled=args.profile)
    if floor is not None:
        print(f"  client floor (OpenAI adapter on the egress client, bare asyncio loop, same server): "
              f"{floor[0]:.3f}s, ratio {floor[0] / ideal:.2f}, CPU {floor[1]:.2f}s", flush=True)
    if drive is not None:
        drive.report()
    wall, cached_s = _median([f.wall_s for f, _ in pairs]), _median([c.wall_s for _, c in pairs])
    return {
        "calls": calls, "concurrency": concurrency, "latency_ms": latency_ms, "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3), "ratio": round(wall / ideal, 3), "cached_rerun_s": round(cached_s, 3),
        "peak_rss_mb": round(rss["peak"][0], 1),
    }


def _rss(drive, worker) -> tuple[float, float]:
    if drive is None:
        return _stack.tree_peak_rss_mb(worker.pid)
    own = _stack.peak_rss_kb(os.getpid()) / 1024  # the driver runs here; the fake server is a child
    return own, own


def client_floor(base_url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """(wall s, CPU s) of the same calls through the engine's HTTP path alone (bench/transport.py)."""
    import asyncio

    from bench.transport import measure

    cpu = time.process_time()
    wall = asyncio.run(measure("openai adapter on egress", base_url, calls, concurrency))
    return wall, time.process_time() - cpu


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _print_case(pairs: list[tuple[Timing, Timing]], ideal: float, rss: dict[str, tuple[float, float]], *,
                profiled: bool) -> None:
    names = list(pairs[0][0].phases)
    print(f"  {'sweep':<9} {'wall s':>7} {'ideal s':>7} {'ratio':>6} {'calls/s':>8}  "
          + "  ".join(f"{n:>8}" for n in names))
    rows = [(f"{label}" + (f" #{rep + 1}" if len(pairs) > 1 else ""), label == "fresh", t)
            for rep, pair in enumerate(pairs) for label, t in zip(("fresh", "cached"), pair, strict=True)]
    for tag, fresh, t in rows:
        ideal_s, ratio = (f"{ideal:.2f}", f"{t.wall_s / ideal:.2f}") if fresh else ("-", "-")
        print(f"  {tag:<9} {t.wall_s:7.3f} {ideal_s:>7} {ratio:>6} {t.calls / t.wall_s:8.0f}  "
              + "  ".join(f"{t.phases.get(n, float('nan')):8.3f}" for n in names))
    if len(pairs) > 1:
        fresh_s, cached_s = [f.wall_s for f, _ in pairs], [c.wall_s for _, c in pairs]
        print(f"  median of {len(pairs)}: fresh {_median(fresh_s):.3f}s (ratio {_median(fresh_s) / ideal:.2f}; "
              f"best {min(fresh_s) / ideal:.2f}), cached {_median(cached_s):.3f}s (best {min(cached_s):.3f}s)")
    for tag, _, t in rows:
        print(f"  CPU s, {tag}: " + ", ".join(f"{name} {used:.2f}" for name, used in t.cpu.items()))
    who = "bench process (driver in-process)" if profiled else "qcluster tree"
    (idle_sum, idle_max), (peak_sum, peak_max) = rss["idle"], rss["peak"]
    print(f"  peak RSS, {who}: {peak_sum:.1f} MiB summed over processes, largest one {peak_max:.1f} MiB "
          f"(before the first sweep: {idle_sum:.1f} and {idle_max:.1f} MiB)", flush=True)


# Many cases: one child process each (Django settings are fixed per process) -----------------------
def run_all(args) -> None:
    results = []
    for calls in args.calls:
        for concurrency in args.concurrency:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--calls", str(calls), "--concurrency",
                   str(concurrency), "--latency-ms", str(args.latency_ms), "--items-per-run",
                   str(args.items_per_run), "--settle-s", str(args.settle_s), "--repeat", str(args.repeat),
                   "--poll-ms", str(args.poll_ms)]
            cmd += ["--no-floor"] * args.no_floor + ["--scorer"] * args.scorer
            if args.postgres:
                cmd += ["--postgres", args.postgres]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            lines = proc.stdout.strip().splitlines()
            if proc.returncode != 0 or not lines:
                print(proc.stdout + proc.stderr[-3000:], flush=True)
                raise SystemExit(f"case {calls} calls at C={concurrency} failed")
            print("\n".join(lines[:-1]), flush=True)
            results.append(json.loads(lines[-1]))
    print(f"\n{'calls':>6} {'C':>3} {'wall s':>7} {'ideal s':>7} {'ratio':>6} {'cached s':>8} {'calls/s':>8} "
          f"{'peak MiB':>8}")
    for r in results:
        print(f"{r['calls']:>6} {r['concurrency']:>3} {r['wall_s']:7.2f} {r['ideal_s']:7.2f} {r['ratio']:6.2f} "
              f"{r['cached_rerun_s']:8.2f} {r['calls'] / r['wall_s']:8.0f} {r['peak_rss_mb']:8.1f}")
    print(json.dumps(results[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=DEFAULT_CALLS)
    parser.add_argument("--concurrency", type=int, nargs="+", default=DEFAULT_CONCURRENCY)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--items-per-run", type=int, default=10, help="sample items per run (default 10)")
    parser.add_argument("--scorer", action="store_true", help="score every output with a length scorer")
    parser.add_argument("--postgres", metavar="URL", help="a server where a scratch database may be created")
    parser.add_argument("--repeat", type=int, default=1, help="fresh experiments per case; the JSON holds medians")
    parser.add_argument("--poll-ms", type=float, default=POLL_S * 1000, help="status poll interval (10)")
    parser.add_argument("--settle-s", type=float, default=0.5, help="idle time after the worker reports running")
    parser.add_argument("--profile", nargs="?", const="cprofile", choices=["cprofile", "timing"],
                        help="run the driver in this process: cProfile (default) or only thread CPU and DB timings")
    parser.add_argument("--py-spy", metavar="FILE", help="record the worker tree with py-spy (collapsed stacks)")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare client loop measured per case")
    parser.add_argument("--keep", action="store_true", help="keep the DATA_DIR (logs, database)")
    args = parser.parse_args(argv)
    if len(args.calls) * len(args.concurrency) == 1:
        print(json.dumps(run_case(args)), flush=True)
    else:
        if args.profile or args.py_spy:
            parser.error("--profile and --py-spy need a single case (one --calls and one --concurrency)")
        run_all(args)


if __name__ == "__main__":
    main()
