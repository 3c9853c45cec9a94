"""Server time of the experiment pages over one experiment of 10,000 finished runs.

It builds, in a fresh DATA_DIR (SQLite) or a scratch database on `--postgres URL`, a user, an endpoint
(never called) and a one-stage experiment over 10 sample items with two scorers (keyword, weight 2;
length, weight 1) whose grid of temperature × seed has `--runs` points. The sweep is planned by
`sweep_start` (the REST API's service, so configs, points and hashes are real), then every run is
marked completed and given what the driver would have stored, in bulk: one StageResult per item,
one Score per scorer per item, one ScoreSummary per scorer, a weighted score, tokens and cost, and
a run.started and a run.completed event.

Then, as the logged-in owner through Django's test Client (in-process: server time only, no
network), after `--warmup` requests it times `--requests` requests of each page and counts their
SQL queries (an execute wrapper; `--profile` adds each statement's time and a cProfile):

* the live view `web:experiment`,
* the leaderboard partial (`web:experiment_leaderboard`, HX-Target experiment-leaderboard), first page,
* the same sorted by a scorer (`?sort=keyword`),
* run detail `web:run` of the median-ranked run,
* and, reported beside them, the score chart partial (`web:experiment_chart`, HX-Target experiment-chart),
  which the live view asks for once it has loaded.

A page that answers anything but 200 stops the bench with its status and URL.

    .venv/bin/python bench/pages.py [--runs 10000] [--requests 30] [--warmup 3]
    .venv/bin/python bench/pages.py --postgres postgres://promptlooper:promptlooper@127.0.0.1:5432/postgres
    .venv/bin/python bench/pages.py --runs 2000 --build-only      # check the data generator alone
    .venv/bin/python bench/pages.py --profile                     # each page's SQL with times, and a cProfile

The last line printed is one JSON object: {"runs", "live_view_p50_ms", "leaderboard_p50_ms",
"leaderboard_sorted_p50_ms", "run_detail_p50_ms", "max_queries", "chart_p50_ms"}.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _stack  # noqa: E402

ITEMS = 10
TEMPERATURES = [round(0.1 * k, 1) for k in range(10)]
SCORERS = [
    {"type": "keyword", "name": "keyword", "weight": 2, "options": {"keywords": ["refund", "sorry"], "mode": "any"}},
    {"type": "length", "name": "length", "weight": 1, "options": {"unit": "words", "min": 5, "max": 60}},
]
BATCH = 2000


class PageFailed(SystemExit):
    pass


def _setup_django(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("django-q").setLevel(logging.WARNING)


def _experiment(runs: int):
    from apps.accounts.models import User
    from apps.endpoints.models import Endpoint
    from apps.experiments.services import experiment_create
    from apps.projects.models import Project

    user = User.objects.create_superuser(username="bench", password="bench password 1234")
    endpoint = Endpoint.objects.create(owner=user, label="fake", base_url="http://127.0.0.1:9/v1",
                                       model_prices={"fake-chat": {"input": 0.15, "output": 0.6}})
    project = Project.objects.create(owner=user, name="Pages benchmark")
    items = [{"id": f"item-{n:02d}", "input": f"Customer email {n}: my order {1000 + n} arrived broken.",
              "reference": "We are sorry; a refund is on its way."} for n in range(ITEMS)]
    experiment = experiment_create(user=user, project=project, data={
        "name": "Support replies at scale",
        "sample_data": items,
        "pipeline_stages": [{
            "name": "reply", "endpoint": str(endpoint.pk), "model": "fake-chat",
            "system_prompt": "You are a polite support agent. Answer in two sentences.",
            "prompt_template": "Reply to this email:\n{{ input }}",
            "params": {"temperature": 0.5, "max_tokens": 120},
        }],
        "scoring_config": {"scorers": SCORERS},
        "parameter_space": [
            {"path": "stages.0.params.temperature", "values": TEMPERATURES},
            {"path": "stages.0.params.seed", "values": list(range(max(1, runs // len(TEMPERATURES))))},
        ],
    })
    return user, experiment, items


def _converter(field, connection):
    """How one column's Python value becomes a query parameter (what bulk_create would send), or None."""
    from django.db import models

    ops = connection.ops
    target = field.target_field if field.is_relation else field
    if isinstance(field, models.JSONField):
        return lambda value: ops.adapt_json_value(value, field.encoder)
    if isinstance(target, models.UUIDField):
        convert = lambda value: target.get_db_prep_value(value, connection)  # noqa: E731
    elif isinstance(field, models.DateTimeField):
        convert = ops.adapt_datetimefield_value
    elif isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    else:
        return None
    return functools.lru_cache(maxsize=4096)(convert)  # run ids and timestamps repeat row after row


def _insert(model, rows: list[dict]) -> None:
    """One executemany of rows (dicts of attname → value, all with the same keys): a tenth of bulk_create's time."""
    from django.db import connections

    connection = connections["default"]  # the wrapper itself, not the per-thread proxy (row after row)
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    convert = [_converter(field, connection) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) " \
          f"VALUES ({', '.join(['%s'] * len(names))})"
    params = [tuple(row[name] if fn is None else fn(row[name]) for name, fn in zip(names, convert, strict=True))
              for row in rows]
    with connection.cursor() as cursor:
        for offset in range(0, len(params), BATCH):
            cursor.executemany(sql, params[offset:offset + BATCH])


def _update_runs(rows: list[dict]) -> None:
    """The finished runs' columns, one executemany of UPDATE … WHERE id = %s."""
    from django.db import connections

    from apps.runs.models import Run

    connection = connections["default"]
    names = [name for name in rows[0] if name != "id"]
    fields = [Run._meta.get_field(name) for name in names]
    convert = [_converter(field, connection) for field in fields]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    sql = f"UPDATE {connection.ops.quote_name(Run._meta.db_table)} SET {assignments} WHERE id = %s"
    to_id = _converter(Run._meta.pk, connection)
    params = [(*(row[n] if fn is None else fn(row[n]) for n, fn in zip(names, convert, strict=True)), to_id(row["id"]))
              for row in rows]
    with connection.cursor() as cursor:
        for offset in range(0, len(params), BATCH):
            cursor.executemany(sql, params[offset:offset + BATCH])


def _finished(run, *, index: int, items: list[dict], rng: random.Random, now, begin) -> dict[str, list[dict]]:
    """Everything the driver stores for one completed run: its row's columns, stage results, scores, summaries."""
    from apps.activity.kinds import Kind

    temperature = float(run.point.get("stages.0.params.temperature", 0.5))
    quality = 0.85 - 0.5 * temperature  # lower temperature: more replies carry the keywords
    started_at = begin + timedelta(seconds=index)
    duration = 800 + rng.randrange(400)
    tokens_out = ITEMS * (30 + rng.randrange(20))
    out: dict[str, list[dict]] = {"scores": [], "summaries": [], "stage_results": [], "events": []}
    means = {}
    for spec in SCORERS:
        name = spec["name"]
        if name == "keyword":
            values = [1.0 if rng.random() < quality else 0.0 for _ in items]
        else:
            values = [min(1.0, max(0.0, rng.gauss(0.8, 0.15))) for _ in items]
        for item, value in zip(items, values, strict=True):
            out["scores"].append({"run_id": run.pk, "scorer_name": name, "item_id": item["id"], "repeat": 0,
                                  "value": value, "error": "", "created_at": now,
                                  "metadata": {"explanation": f"{name}: {value:.2f}"}})
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
        half = 1.96 * std / len(values) ** 0.5
        means[name] = mean
        out["summaries"].append({"run_id": run.pk, "scorer_name": name, "weight": spec["weight"], "mean": mean,
                                 "std": std, "n": len(values), "ci_low": max(0.0, mean - half),
                                 "ci_high": min(1.0, mean + half), "errored": 0, "updated_at": now})
    weighted = sum(means[s["name"]] * s["weight"] for s in SCORERS) / sum(s["weight"] for s in SCORERS)
    for item in items:
        out["stage_results"].append({
            "run_id": run.pk, "item_id": item["id"], "repeat": 0, "stage_index": 0, "stage_name": "reply",
            "prompt_sent": [{"role": "system", "content": "You are a polite support agent."},
                            {"role": "user", "content": f"Reply to this email:\n{item['input']}"}],
            "response_raw": f"We are sorry about order {item['id']}; a refund is on its way (t={temperature}).",
            "model_used": "fake-chat", "parameters": {"temperature": temperature, "max_tokens": 120},
            "cache_key": hashlib.sha256(f"{run.pk}:{item['id']}".encode()).hexdigest(), "cached": False,
            "finish_reason": "stop", "tokens_in": 60, "tokens_out": tokens_out // ITEMS,
            "latency_ms": 400 + rng.randrange(300), "error": "", "created_at": started_at,
        })
    for kind, payload in ((Kind.RUN_STARTED, {}), (Kind.RUN_COMPLETED, {"weighted_score": weighted})):
        out["events"].append({"kind": kind.value, "run_id": run.pk, "payload": payload, "created_at": started_at})
    out["run"] = [{"id": run.pk, "status": "completed", "started_at": started_at,
                   "completed_at": started_at + timedelta(milliseconds=duration), "duration_ms": duration,
                   "calls": ITEMS, "cache_hits": rng.choice([0, 0, 0, 1, 2]), "tokens_in": ITEMS * 60,
                   "tokens_out": tokens_out, "weighted_score": weighted,
                   "cost_estimate": Decimal(ITEMS * 60 * 0.15 + tokens_out * 0.6).scaleb(-6).quantize(Decimal("1e-6"))}]
    return out


def build(runs: int, *, seed: int = 7) -> dict:
    """The experiment, its sweep and `runs` completed runs with everything the pages read."""
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.activity.models import Event
    from apps.experiments.models import Experiment
    from apps.runs.models import Run, Score, ScoreSummary, StageResult, Sweep
    from apps.runs.services.sweeps import sweep_start

    rng = random.Random(seed)
    started = time.perf_counter()
    user, experiment, items = _experiment(runs)
    with mock.patch("apps.runs.services.sweeps.async_task"):  # no worker: the runs are "finished" below
        sweep, _ = sweep_start(user=user, experiment=experiment, kind="grid")
    planned = time.perf_counter()

    now = timezone.now()
    begin = now - timedelta(hours=3)
    rows: dict[str, list[dict]] = {"run": [], "scores": [], "summaries": [], "stage_results": [], "events": []}
    for index, run in enumerate(Run.objects.filter(sweep=sweep).order_by("position").only("pk", "point")):
        for table, part in _finished(run, index=index, items=items, rng=rng, now=now, begin=begin).items():
            rows[table].extend(part)
    common = {"owner_id": user.pk, "project_id": experiment.project_id, "experiment_id": experiment.pk,
              "sweep_id": sweep.pk}
    events = [{**common, **event} for event in rows["events"]]
    finished = rows["run"]
    with transaction.atomic():
        _update_runs(finished)
        _insert(StageResult, rows["stage_results"])
        _insert(Score, rows["scores"])
        _insert(ScoreSummary, rows["summaries"])
        _insert(Event, events)
        Sweep.objects.filter(pk=sweep.pk).update(
            status=Sweep.Status.COMPLETED, started_at=begin, finished_at=now, runs_done=len(finished),
            calls_total=sum(r["calls"] for r in finished), cache_hits=sum(r["cache_hits"] for r in finished),
            tokens_in=sum(r["tokens_in"] for r in finished), tokens_out=sum(r["tokens_out"] for r in finished),
            cost_usd=sum(r["cost_estimate"] for r in finished))
        Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.Status.COMPLETED)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load (PostgreSQL 13+ vacuums after inserts too): fresh
        # planner statistics, and a visibility map, without which an index-only scan still reads the heap.
        with connection.cursor() as cursor:
            # VACUUM cannot run in a transaction (a test's): ANALYZE alone there.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for model in (Run, StageResult, Score, ScoreSummary, Event):
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
    ranked = sorted(finished, key=lambda r: r["weighted_score"], reverse=True)
    counts = stored_counts(experiment)
    print(f"built in the database: {counts['runs']:,} completed runs, {counts['stage_results']:,} stage results, "
          f"{counts['scores']:,} scores, {counts['summaries']:,} summaries, {counts['events']:,} events; "
          f"plan {planned - started:.1f}s, rows {time.perf_counter() - planned:.1f}s", flush=True)
    return {"user": user, "experiment": experiment, "runs": counts["runs"],
            "mid_run": Run.objects.get(pk=ranked[len(ranked) // 2]["id"])}


def stored_counts(experiment) -> dict[str, int]:
    from apps.activity.models import Event
    from apps.runs.models import Run, Score, ScoreSummary, StageResult

    return {"runs": Run.objects.filter(experiment=experiment, status=Run.Status.COMPLETED,
                                       weighted_score__isnull=False).count(),
            "stage_results": StageResult.objects.filter(run__experiment=experiment).count(),
            "scores": Score.objects.filter(run__experiment=experiment).count(),
            "summaries": ScoreSummary.objects.filter(run__experiment=experiment).count(),
            "events": Event.objects.filter(experiment=experiment).count()}


def _timed(client, label: str, url: str, *, headers: dict) -> tuple[float, float, int, int]:
    """One request: (wall ms, CPU ms, queries, response bytes)."""
    from django.db import connection

    statements: list[str] = []

    def counted(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # Counted by an execute wrapper, not CaptureQueriesContext: its debug cursor formats every statement
    # with its parameters (on SQLite one more query each), ~20 ms of a 13-query page that no server pays.
    with connection.execute_wrapper(counted):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    if response.status_code != 200:
        raise PageFailed(f"{label}: GET {url} answered {response.status_code}, not 200 "
                         "(is the page built? see apps/web/urls.py)")
    return elapsed * 1000, elapsed_cpu * 1000, len(statements), len(response.content)


def _summary(label: str, samples: list[tuple[float, float, int, int]]) -> dict:
    times = sorted(sample[0] for sample in samples)
    return {"page": label, "p50": statistics.median(times), "p90": times[int(len(times) * 0.9) - 1],
            "cpu_p50": statistics.median(sample[1] for sample in samples),
            "max": times[-1], "queries": max(sample[2] for sample in samples), "bytes": samples[-1][3]}


def _pages(built: dict) -> list[tuple[str, str, dict]]:
    from django.urls import reverse

    experiment, run = built["experiment"], built["mid_run"]
    board = reverse("web:experiment_leaderboard", args=[experiment.pk])
    htmx = {"HX-Request": "true", "HX-Target": "experiment-leaderboard"}
    pages = [
        ("live view", reverse("web:experiment", args=[experiment.pk]), {}),
        ("leaderboard", board, htmx),
        ("leaderboard sorted", f"{board}?sort={SCORERS[0]['name']}", htmx),
        ("run detail", reverse("web:run", args=[run.pk]), {}),
        ("chart partial", reverse("web:experiment_chart", args=[experiment.pk]),
         {"HX-Request": "true", "HX-Target": "experiment-chart"}),
    ]
    return pages


def measure(built: dict, *, warmup: int, requests: int) -> list[dict]:
    from django.test import Client

    client = Client()
    client.force_login(built["user"])
    pages = _pages(built)
    samples: dict[str, list] = {label: [] for label, _, _ in pages}
    # Round robin, one request of each page per round: a slow spell of a shared machine (they last seconds)
    # then lands on every page alike instead of on whichever page was being timed.
    for round_ in range(warmup + requests):
        for label, url, headers in pages:
            sample = _timed(client, label, url, headers=headers)
            if round_ >= warmup:
                samples[label].append(sample)
    return [_summary(label, samples[label]) for label, _, _ in pages]


def profile(built: dict, *, top: int = 25) -> None:
    """One request of each page (after a warm-up one): each SQL statement with its time, then a cProfile."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(built["user"])
    for label, url, headers in _pages(built):
        client.get(url, headers=headers)
        timings: list[tuple[float, str]] = []

        def timed(execute, sql, params, many, context, timings=timings):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.append(((time.perf_counter() - started) * 1000, sql))

        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            client.get(url, headers=headers)
            wall = (time.perf_counter() - started) * 1000
        print(f"\n== {label}: {wall:.1f} ms, {len(timings)} queries, {sum(t for t, _ in timings):.1f} ms in SQL")
        for ms, sql in timings:
            print(f"  {ms:7.2f} ms  {sql[:220]}")
        prof = cProfile.Profile()
        prof.enable()
        client.get(url, headers=headers)
        prof.disable()
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(top)
        print("\n".join("  " + line for line in text.getvalue().splitlines()[6:] if line.strip()))


def _report(built: dict, results: list[dict]) -> dict:
    # CPU: this process's (with SQLite, the queries' too); on a busy machine it is steadier than wall time.
    print(f"\n{'page':<20} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8} {'cpu p50':>8} {'queries':>8} {'KiB':>7}")
    for r in results:
        print(f"{r['page']:<20} {r['p50']:8.1f} {r['p90']:8.1f} {r['max']:8.1f} {r['cpu_p50']:8.1f} {r['queries']:8d} "
              f"{r['bytes'] / 1024:7.1f}")
    by = {r["page"]: round(r["p50"], 2) for r in results}
    return {"runs": built["runs"], "live_view_p50_ms": by["live view"], "leaderboard_p50_ms": by["leaderboard"],
            "leaderboard_sorted_p50_ms": by["leaderboard sorted"], "run_detail_p50_ms": by["run detail"],
            "max_queries": max(r["queries"] for r in results), "chart_p50_ms": by["chart partial"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="finished runs (a multiple of 10; default 10,000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first (default 3)")
    parser.add_argument("--postgres", metavar="URL", help="a server where a scratch database may be created")
    parser.add_argument("--build-only", action="store_true", help="build the data and stop (no page requests)")
    parser.add_argument("--profile", action="store_true",
                        help="before timing, one request of each page: its SQL statements with times, and a cProfile")
    args = parser.parse_args(argv)
    scratch = _stack.Scratch(args.postgres)
    try:
        # DEBUG stays off: the execute wrapper counts queries without it, and DEBUG pages cost more.
        _setup_django({**scratch.env(), "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver,localhost"})
        built = build(args.runs)
        if args.profile and not args.build_only:
            profile(built)
        result = None if args.build_only else _report(built, measure(built, warmup=args.warmup,
                                                                     requests=args.requests))
    finally:
        from django.db import connections

        connections.close_all()
        scratch.remove()
    if result is not None:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
