"""Guided sweeps: the planner proposes the next configurations from the scores of earlier runs.

The search state (ask/tell) lives in `Sweep.request["guided"]`, so any driver can continue it; each
batch is planned in one transaction once every earlier run of the sweep has finished.
"""

from __future__ import annotations

from django.db import transaction

from apps.engine.config_paths import apply_point
from apps.engine.planners.guided import GuidedSearch
from apps.runs.models import Run, Sweep
from apps.runs.services.events import Kind, event_build
from apps.runs.services.planning import run_config_hash, samples_fingerprint, select_items

DEFAULT_BATCH = 4


def guided_request(*, n: int, batch: int | None, state: dict) -> dict:
    return {"n": n, "batch": batch or DEFAULT_BATCH, "state": state, "told": []}


def guided_next_batch(*, sweep_id) -> int:
    """Tell the search every newly finished run's weighted score and plan the next batch; 0 when done."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("experiment__project").get(pk=sweep_id)
        guided = (sweep.request or {}).get("guided")
        if sweep.kind != Sweep.Kind.GUIDED or not guided or sweep.status != Sweep.Status.RUNNING:
            return 0
        runs = Run.objects.filter(sweep=sweep)
        if runs.exclude(status__in=[Run.Status.COMPLETED, Run.Status.FAILED, Run.Status.CACHED,
                                    Run.Status.CANCELLED]).exists():
            return 0
        search = GuidedSearch.from_state(guided["state"])
        told = set(guided["told"])
        for run_id, point, score in runs.exclude(pk__in=told).values_list("pk", "point", "weighted_score"):
            search.tell(point, score)
            told.add(str(run_id))
        total = runs.count()
        points = search.ask(min(guided["batch"], guided["n"] - total)) if total < guided["n"] else []
        experiment = sweep.experiment
        items = select_items(experiment, sweep.sample_ids)
        fingerprint = samples_fingerprint(items)
        known = set(runs.values_list("config_hash", flat=True))
        new_runs = []
        for offset, point in enumerate(points):
            config = apply_point({"stages": experiment.pipeline_stages}, point)
            config_hash = run_config_hash(config=config, items_fingerprint=fingerprint, repeats=sweep.repeats)
            if config_hash not in known:
                known.add(config_hash)
                new_runs.append(Run(experiment=experiment, sweep=sweep, position=total + offset, config=config,
                                    point=point, config_hash=config_hash))
        Run.objects.bulk_create(new_runs)
        best = search.best()
        sweep.request = {**sweep.request, "guided": {**guided, "state": search.to_state(), "told": sorted(told)}}
        sweep.runs_total = total + len(new_runs)
        sweep.save(update_fields=["request", "runs_total"])
        if new_runs:
            event_build(kind=Kind.GUIDED_BATCH, experiment=experiment, sweep=sweep, payload={
                "planned_runs": len(new_runs), "total_runs": sweep.runs_total,
                "best_so_far": {"point": best[0], "score": best[1]} if best else None,
            }).save()
        return len(new_runs)
