"""Halving sweeps: plan each rung of successive halving once the previous rung's runs have finished.

The search (apps.engine.planners.halving) lives in `Sweep.request["guided"]["state"]` like a guided
sweep's, so any driver can continue it after a crash: a rung is told and the next one planned in one
transaction, and only when no run of the sweep is unfinished. A rung's runs carry their item subset in
`Run.sample_ids` (None on the last rung: every item), which also makes their config hash distinct.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.types import Id
from apps.engine.hashing import canonical_json
from apps.engine.planners.halving import HalvingSearch
from apps.runs.models import Run, Sweep
from apps.runs.services.guided import proposal_checker
from apps.runs.services.planning import run_config_hash, samples_fingerprint, select_items

if TYPE_CHECKING:
    from apps.runs.driver import SweepDriver


async def halving_step(driver: SweepDriver) -> int:
    """The driver's between-batch step for halving sweeps (apps.runs.services.adaptive)."""
    return await driver.db(halving_next_rung, sweep_id=driver.sweep_id)


def _tell(search: HalvingSearch, runs) -> None:
    index = {canonical_json(point): i for i, point in enumerate(search.configs)}
    for point, sample_ids, score in runs.values_list("point", "sample_ids", "weighted_score"):
        rung = search.rung_of(None if sample_ids is None else len(sample_ids))
        if rung == search.rung and canonical_json(point) in index:
            search.tell(index[canonical_json(point)], score)


def halving_next_rung(*, sweep_id: Id) -> int:
    """Tell the search the finished rung's weighted scores and plan the next rung's runs; 0 when done."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("experiment__project").get(pk=sweep_id)
        guided = (sweep.request or {}).get("guided")
        if not guided or sweep.status != Sweep.Status.RUNNING:
            return 0
        runs = Run.objects.filter(sweep=sweep)
        if runs.unfinished().exists():
            return 0
        experiment = sweep.experiment
        items = select_items(experiment=experiment, sample_ids=sweep.sample_ids)
        search = HalvingSearch.from_state(guided["state"])
        if not search.started:
            search.start([item["id"] for item in items])
            stages = len(experiment.pipeline_stages)
            sweep.calls_total = search.planned_calls(per_item=sweep.repeats * stages)
        elif search.rung >= 0:
            _tell(search, runs)
        trials = search.ask()
        by_id = {str(item["id"]): item for item in items}
        check = proposal_checker(experiment) if trials else None
        known = set(runs.values_list("config_hash", flat=True))
        total = runs.count()
        start = runs.next_position()
        new_runs = []
        for trial in trials:
            config = check(trial.point)
            if config is None:
                continue
            subset = items if trial.sample_ids is None else [by_id[i] for i in trial.sample_ids]
            config_hash = run_config_hash(config=config, items_fingerprint=samples_fingerprint(subset),
                                          repeats=sweep.repeats)
            if config_hash not in known:
                known.add(config_hash)
                new_runs.append(Run(experiment=experiment, sweep=sweep, position=start + len(new_runs),
                                    config=config, point=trial.point, config_hash=config_hash,
                                    sample_ids=trial.sample_ids))
        Run.objects.bulk_create(new_runs)
        best = search.best()
        sweep.request = {**sweep.request, "guided": {**guided, "state": search.to_state()}}
        sweep.runs_total = total + len(new_runs)
        sweep.save(update_fields=["request", "runs_total", "calls_total"])
        if new_runs:
            event_emit(kind=Kind.GUIDED_BATCH, experiment=experiment, sweep=sweep, payload={
                "planned_runs": len(new_runs), "total_runs": sweep.runs_total,
                "rung": search.rung, "rungs": len(search.sizes), "items": len(subset),
                "best_so_far": {"point": best[0], "score": best[1]} if best else None,
            })
        return len(new_runs)
