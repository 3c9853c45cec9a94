"""Retroactive re-scoring: every stored output scored again with the current scorers.

No generation call is ever made here: outputs come from StageResults; judge and embedding calls
go through the response cache, so scorers that ran before cost nothing.
"""

from __future__ import annotations

import asyncio
import logging

from django.db import close_old_connections

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.types import Id
from apps.experiments.models import Experiment
from apps.runs.llm_host import LLMHost
from apps.runs.models import Run, Sweep
from apps.runs.outputs import stage_count, stored_final_outputs
from apps.runs.scoring_backend import ScoringBackend
from apps.runs.services.scoring import score_outputs, scores_store

logger = logging.getLogger(__name__)

BATCH_RUNS = 50


class Rescorer(LLMHost):
    def __init__(self, experiment_id: Id) -> None:
        super().__init__()
        self.experiment_id = experiment_id

    def _load(self):
        experiment = Experiment.objects.select_related("project").get(pk=self.experiment_id)
        scoring = experiment.spec.scoring
        self.load_endpoints(scoring.endpoint_ids(), owner_id=experiment.project.owner_id)
        self.cache_owner = str(experiment.project.owner_id)  # judge/embedding calls read the owner's cache
        specs = list(scoring)
        items = {str(i["id"]): i for i in experiment.sample_data}
        singles = Sweep.objects.filter(experiment=experiment, kind=Sweep.Kind.SINGLE)
        for request in singles.values_list("request", flat=True):
            items.update({str(i["id"]): i for i in (request or {}).get("items") or []})
        runs = list(Run.objects.filter(experiment=experiment).scored()
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
                outputs = await self.db(stored_final_outputs,
                                        runs={str(pk): stage_count(config) for pk, config in batch})
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


def experiment_rescore(*, experiment_id: Id) -> int:
    """Entry point for the django-q task."""
    close_old_connections()
    return asyncio.run(Rescorer(experiment_id).run())
