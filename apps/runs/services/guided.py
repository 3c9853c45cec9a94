"""Guided sweeps: the planner proposes the next configurations from the scores of earlier runs.

The search state (ask/tell) lives in `Sweep.request["guided"]`, so any driver can continue it; each
batch is planned in one transaction once every earlier run of the sweep has finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.errors import InvalidInput
from apps.core.types import Id
from apps.engine.config_paths import ConfigPathError, apply_point
from apps.engine.planners import planner_for
from apps.experiments.models import Experiment
from apps.experiments.selectors import user_endpoint_ids
from apps.experiments.services import experiment_validate
from apps.runs.models import Run, Sweep
from apps.runs.services.planning import run_config_hash, samples_fingerprint, select_items

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 4


def guided_request(*, n: int, batch: int | None, state: dict) -> dict:
    return {"n": n, "batch": batch or DEFAULT_BATCH, "state": state, "told": []}


def proposal_checker(experiment: Experiment) -> Callable[[dict], dict | None]:
    """`check(point)`: the point's config when it validates for the experiment's owner, else None.

    Points come from a space validated when the sweep started; this re-check guards against a damaged
    or hand-edited search state, so that what runs is always what a saved experiment could hold.
    """
    owner = experiment.project.owner
    endpoint_ids = user_endpoint_ids(user=owner)
    base = {"name": experiment.name, "sample_data": experiment.sample_data}

    def check(point: dict) -> dict | None:
        try:
            config = apply_point({"stages": experiment.pipeline_stages}, point)
            experiment_validate(user=owner, data={**base, "pipeline_stages": config["stages"]},
                                endpoint_ids=endpoint_ids)
        except (ConfigPathError, InvalidInput) as exc:
            logger.warning("Guided sweep of experiment %s: proposal %s not planned: %s", experiment.pk, point, exc)
            return None
        return config

    return check


def guided_next_batch(*, sweep_id: Id) -> int:
    """Tell the search every newly finished run's weighted score and plan the next batch; 0 when done."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("experiment__project").get(pk=sweep_id)
        guided = (sweep.request or {}).get("guided")
        planner = planner_for(sweep.kind)
        if planner is None or not planner.adaptive or not guided or sweep.status != Sweep.Status.RUNNING:
            return 0
        runs = Run.objects.filter(sweep=sweep)
        if runs.unfinished().exists():
            return 0
        search = planner.search_from_state(guided["state"])
        told = set(guided["told"])
        # In plan order, so every driver (a clean one, or one taking over after a crash) tells the same sequence.
        untold = runs.exclude(pk__in=told).order_by("position", "pk")
        for run_id, point, score in untold.values_list("pk", "point", "weighted_score"):
            search.tell(point, score)
            told.add(str(run_id))
        total = runs.count()
        start = runs.next_position()
        points = search.ask(min(guided["batch"], guided["n"] - total)) if total < guided["n"] else []
        experiment = sweep.experiment
        items = select_items(experiment=experiment, sample_ids=sweep.sample_ids)
        fingerprint = samples_fingerprint(items)
        known = set(runs.values_list("config_hash", flat=True))
        new_runs = []
        check = proposal_checker(experiment) if points else None
        for offset, point in enumerate(points):
            config = check(point)
            if config is None:
                continue
            config_hash = run_config_hash(config=config, items_fingerprint=fingerprint, repeats=sweep.repeats)
            if config_hash not in known:
                known.add(config_hash)
                new_runs.append(Run(experiment=experiment, sweep=sweep, position=start + offset, config=config,
                                    point=point, config_hash=config_hash))
        Run.objects.bulk_create(new_runs)
        best = search.best()
        sweep.request = {**sweep.request, "guided": {**guided, "state": search.to_state(), "told": sorted(told)}}
        sweep.runs_total = total + len(new_runs)
        sweep.save(update_fields=["request", "runs_total"])
        if new_runs:
            event_emit(kind=Kind.GUIDED_BATCH, experiment=experiment, sweep=sweep, payload={
                "planned_runs": len(new_runs), "total_runs": sweep.runs_total,
                "best_so_far": {"point": best[0], "score": best[1]} if best else None,
            })
        return len(new_runs)
