"""A user's pause racing the driver's completion, on real concurrent PostgreSQL connections.

Whoever wins, the sweep and its experiment must tell the same story: a completed sweep shows
completed, a paused one is unfinished. Before guarded transitions a pause that read the sweep as
running could overwrite the completion, leaving a finished sweep (and its experiment) paused.
"""

from functools import partial

import pytest
from django.db import connection

from apps.activity.models import Event
from apps.core.errors import Conflict
from apps.experiments.models import Experiment
from apps.runs.models import Run, Sweep
from apps.runs.services.recording import sweep_finish_if_done
from apps.runs.services.sweeps import sweep_pause
from apps.runs.tests.conftest import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="a race needs concurrent writers; SQLite serialises them (runs in the PostgreSQL pass)"),
]

ROUNDS = 40


def ready_to_finish(project, n: int) -> Sweep:
    """A running sweep whose runs have all finished: the driver is about to complete it."""
    experiment = Experiment.objects.create(project=project, name=f"race {n}", status=Experiment.Status.RUNNING)
    sweep = Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, status=Sweep.Status.RUNNING,
                                 runs_total=2)
    for position in range(2):
        Run.objects.create(experiment=experiment, sweep=sweep, position=position, config={},
                           config_hash=f"h{position}", status=Run.Status.COMPLETED)
    return Sweep.objects.select_related("experiment__project").get(pk=sweep.pk)


def test_a_pause_racing_completion_never_leaves_a_finished_sweep_paused(project):
    wins = {"pause": 0, "completion": 0}
    wrong = []
    for n in range(ROUNDS):
        sweep = ready_to_finish(project, n)
        experiment = sweep.experiment
        paused, _ = race(partial(sweep_pause, experiment=experiment),
                         partial(sweep_finish_if_done, sweep_id=sweep.pk, experiment=experiment))
        sweep.refresh_from_db()
        shown = Experiment.objects.get(pk=experiment.pk).status
        kinds = set(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
        if sweep.status == Sweep.Status.PAUSED:
            wins["pause"] += 1
            consistent = (sweep.finished_at is None and shown == Experiment.Status.PAUSED and isinstance(paused, Sweep)
                          and kinds == {"experiment.paused"})
        else:
            wins["completion"] += 1
            consistent = (sweep.status == Sweep.Status.COMPLETED and shown == Experiment.Status.COMPLETED
                          and isinstance(paused, Conflict) and kinds == {"experiment.completed"})
        if not consistent:
            wrong.append(f"round {n}: sweep {sweep.status} (finished_at {sweep.finished_at}), experiment {shown}, "
                         f"pause returned {paused!r}, events {sorted(kinds)}")
    assert not wrong, f"{len(wrong)} of {ROUNDS} rounds inconsistent (wins {wins}):\n" + "\n".join(wrong[:5])
