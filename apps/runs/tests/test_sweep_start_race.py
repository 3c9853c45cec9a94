"""One experiment never has two sweeps in progress, however close together two starts arrive."""

import pytest
from django.db import connection

from apps.core.errors import Conflict
from apps.experiments.models import Experiment
from apps.runs.models import Sweep
from apps.runs.services import sweeps
from apps.runs.services.sweeps import sweep_start
from apps.runs.tests.conftest import race

IN_PROGRESS = [Sweep.Status.PENDING, Sweep.Status.RUNNING]
CONFLICT = {"detail": "This experiment already has a sweep in progress; pause or stop it first."}


def start(api, experiment):
    return api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")


@pytest.mark.django_db
def test_a_second_start_while_a_sweep_is_in_progress_is_a_conflict(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    assert start(api, experiment).status_code == 202
    again = start(api, experiment)
    assert again.status_code == 409 and again.json() == CONFLICT
    assert experiment.sweeps.count() == 1


@pytest.mark.django_db
def test_a_sweep_started_while_this_one_was_planning_wins_and_this_one_is_a_conflict(
        api, make_experiment, enqueued, owner, monkeypatch):
    experiment = make_experiment(n_items=1)
    real_plan = sweeps.sweep_plan

    def plan_while_another_start_commits(**kwargs):
        Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, status=Sweep.Status.PENDING)
        return real_plan(**kwargs)

    monkeypatch.setattr(sweeps, "sweep_plan", plan_while_another_start_commits)
    response = start(api, experiment)
    assert response.status_code == 409 and response.json() == CONFLICT
    assert experiment.sweeps.count() == 1 and not experiment.runs.exists()


def race_two_starts(*, user, experiment_id) -> list:
    """Start the experiment's sweep from two threads (own connections) released together; their outcomes."""

    def attempt():
        return sweep_start(user=user, experiment=Experiment.objects.get(pk=experiment_id), kind="grid")[0]

    return race(attempt, attempt)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="a race needs concurrent writers; SQLite serialises them (runs in the PostgreSQL pass)")
def test_two_concurrent_starts_of_one_experiment_leave_exactly_one_sweep(owner, make_experiment, enqueued):
    wrong = []
    for n in range(20):
        experiment = make_experiment(n_items=1)
        outcomes = race_two_starts(user=owner, experiment_id=experiment.pk)
        started = [o for o in outcomes if isinstance(o, Sweep)]
        refused = [o for o in outcomes if isinstance(o, Conflict)]
        active = Sweep.objects.filter(experiment=experiment, status__in=IN_PROGRESS).count()
        if (len(started), len(refused), active) != (1, 1, 1):
            wrong.append(f"round {n}: outcomes {outcomes!r}, {active} sweeps in progress")
    assert not wrong, f"{len(wrong)} of 20 rounds wrong:\n" + "\n".join(wrong[:5])
