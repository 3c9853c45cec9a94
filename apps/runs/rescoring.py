"""Retroactive re-scoring: every stored output scored again with the current scorers.

No generation call is ever made here: outputs come from StageResults; judge and embedding calls
go through the response cache, so scorers that ran before cost nothing.
"""

from __future__ import annotations

import asyncio
import logging

from django.db import close_old_connections
from django.db.models import Max

from apps.experiments.models import Experiment
from apps.runs.llm_host import LLMHost, scorer_endpoint_ids
from apps.runs.models import Run, StageResult, Sweep
from apps.runs.scoring_backend import ScoringBackend
from apps.runs.services.events import Kind, event_emit
from apps.runs.services.scoring import ScoredOutput, score_outputs, scorer_specs, scores_store

logger = logging.getLogger(__name__)

BATCH_RUNS = 50
SCORED_STATUSES = [Run.Status.COMPLETED, Run.Status.CACHED, Run.Status.FAILED]


def stored_outputs(*, run_ids: list[str]) -> dict[str, list[ScoredOutput]]:
    """Final outputs per run from stored StageResults (items whose every stage succeeded)."""
    rows = (StageResult.objects.filter(run_id__in=run_ids, error="")
            .values_list("run_id", "item_id", "repeat", "stage_index", "stage_name", "response_raw"))
    last = dict(Run.objects.filter(pk__in=run_ids).annotate(m=Max("stage_results__stage_index")).values_list("pk", "m"))
    stages: dict[tuple, dict[str, str]] = {}
    finals: dict[tuple, str] = {}
    for run_id, item_id, repeat, index, name, text in rows:
        key = (str(run_id), item_id, repeat)
        stages.setdefault(key, {})[name] = text
        if index == last[run_id]:
            finals[key] = text
    out: dict[str, list[ScoredOutput]] = {str(r): [] for r in run_ids}
    for (run_id, item_id, repeat), text in finals.items():
        out[run_id].append(ScoredOutput(item_id=item_id, repeat=repeat, output=text,
                                        stage_outputs=stages[(run_id, item_id, repeat)]))
    return out


class Rescorer(LLMHost):
    def __init__(self, experiment_id: str) -> None:
        super().__init__()
        self.experiment_id = experiment_id

    def _load(self):
        experiment = Experiment.objects.select_related("project").get(pk=self.experiment_id)
        self.load_endpoints(scorer_endpoint_ids(experiment.scoring_config), owner_id=experiment.project.owner_id)
        self.cache_owner = str(experiment.project.owner_id)  # judge/embedding calls read the owner's cache
        specs = scorer_specs(experiment.scoring_config)
        items = {str(i["id"]): i for i in experiment.sample_data}
        singles = Sweep.objects.filter(experiment=experiment, kind=Sweep.Kind.SINGLE)
        for request in singles.values_list("request", flat=True):
            items.update({str(i["id"]): i for i in (request or {}).get("items") or []})
        runs = list(Run.objects.filter(experiment=experiment, status__in=SCORED_STATUSES)
                    .order_by("position", "created_at").values_list("pk", "config"))
        event_emit(kind=Kind.RESCORE_STARTED, experiment=experiment,
                   payload={"runs": len(runs), "scorers": [s.name for s in specs]})
        return experiment, specs, items, runs

    async def run(self) -> int:
        backend = ScoringBackend(self)
        try:
            experiment, specs, items, runs = await self.db(self._load)
            self.open_clients()
            done = 0
            for start in range(0, len(runs), BATCH_RUNS):
                batch = runs[start : start + BATCH_RUNS]
                outputs = await self.db(stored_outputs, run_ids=[str(pk) for pk, _ in batch])
                scored = await asyncio.gather(*(
                    score_outputs(specs=specs, run_id=str(pk), config=config, items=items,
                                  outputs=outputs[str(pk)], backend=backend, python_enabled=self.python_enabled)
                    for pk, config in batch
                ))
                for (pk, _), rows in zip(batch, scored, strict=True):
                    await self.db(scores_store, run_id=pk, rows=rows, specs=specs)
                done += len(batch)
                await self.db(event_emit, kind=Kind.RESCORE_PROGRESS, experiment=experiment,
                              payload={"done": done, "total": len(runs)})
            await self.db(event_emit, kind=Kind.RESCORE_COMPLETED, experiment=experiment, payload={"runs": done})
            return done
        finally:
            await backend.aclose()
            await self.close()


def experiment_rescore(experiment_id: str) -> int:
    """Entry point for the django-q task."""
    close_old_connections()
    return asyncio.run(Rescorer(experiment_id).run())
