"""Guarded status changes: a finished sweep stays finished, and the experiment's status follows its sweeps."""

import pytest

from apps.activity.models import Event
from apps.core.errors import Conflict
from apps.experiments.models import Experiment
from apps.runs.models import Run, Sweep
from apps.runs.services.recording import sweep_finish_if_done
from apps.runs.services.sweeps import sweep_pause, sweep_redirect, sweep_resume, sweep_stop
from apps.runs.services.transitions import (
    SWEEP_FINAL,
    SWEEP_TRANSITIONS,
    experiment_status_of,
    experiment_status_sync,
    sweep_transition,
)

pytestmark = pytest.mark.django_db

S, E = Sweep.Status, Experiment.Status


def make_sweep(project, *, status=S.RUNNING, experiment=None, runs=(Run.Status.COMPLETED,)) -> Sweep:
    experiment = experiment or Experiment.objects.create(project=project, name="exp", status=E.RUNNING)
    sweep = Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, status=status, runs_total=len(runs))
    for position, run_status in enumerate(runs):
        Run.objects.create(experiment=experiment, sweep=sweep, position=position, config={},
                           config_hash=f"h{position}", status=run_status)
    return sweep


def statuses(sweep) -> tuple[str, str]:
    sweep.refresh_from_db()
    return sweep.status, Experiment.objects.get(pk=sweep.experiment_id).status


def test_completed_stopped_and_failed_are_the_only_final_statuses():
    assert set(SWEEP_FINAL) == {S.COMPLETED, S.STOPPED, S.FAILED}
    assert set(SWEEP_TRANSITIONS) == set(S.values)


@pytest.mark.parametrize("final", [S.COMPLETED, S.STOPPED, S.FAILED])
@pytest.mark.parametrize("to", [S.PENDING, S.RUNNING, S.PAUSED, S.COMPLETED, S.STOPPED, S.FAILED])
def test_a_finished_sweep_never_moves_again(project, final, to):
    sweep = make_sweep(project, status=final)
    Experiment.objects.filter(pk=sweep.experiment_id).update(status=E.COMPLETED)

    assert sweep_transition(sweep_id=sweep.pk, to=to, pause_reason="late") is None
    assert statuses(sweep) == (final, E.COMPLETED)
    assert sweep.pause_reason == ""


def test_a_pause_after_the_sweep_completed_is_a_conflict_and_writes_no_event(project):
    sweep = make_sweep(project)
    sweep_finish_if_done(sweep_id=sweep.pk, experiment=sweep.experiment)

    for steer in (sweep_pause, sweep_stop, sweep_resume):
        with pytest.raises(Conflict):
            steer(experiment=sweep.experiment)
    assert statuses(sweep) == (S.COMPLETED, E.COMPLETED)
    assert list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True)) == ["experiment.completed"]


def test_the_driver_does_not_complete_a_sweep_that_was_paused_first(project):
    sweep = make_sweep(project)
    sweep_pause(experiment=sweep.experiment)

    sweep_finish_if_done(sweep_id=sweep.pk, experiment=sweep.experiment)

    assert statuses(sweep) == (S.PAUSED, E.PAUSED)
    assert sweep.finished_at is None


def test_a_redirect_of_a_finished_sweep_is_a_conflict(project):
    sweep = make_sweep(project, status=S.COMPLETED)

    with pytest.raises(Conflict):
        sweep_redirect(experiment=sweep.experiment, parameter_space=[])


def test_resuming_an_older_paused_sweep_runs_the_experiment_and_its_completion_completes_it(project, enqueued):
    older = make_sweep(project, status=S.PAUSED)
    newer = make_sweep(project, status=S.RUNNING, experiment=older.experiment, runs=())
    sweep_stop(experiment=older.experiment)
    assert statuses(newer) == (S.STOPPED, E.COMPLETED)

    sweep_resume(experiment=older.experiment)
    assert statuses(older) == (S.RUNNING, E.RUNNING)

    sweep_finish_if_done(sweep_id=older.pk, experiment=older.experiment)
    assert statuses(older) == (S.COMPLETED, E.COMPLETED)


def test_an_experiment_without_sweeps_keeps_its_draft_status(project):
    experiment = Experiment.objects.create(project=project, name="draft")

    assert experiment_status_sync(experiment_id=experiment.pk) == E.DRAFT


@pytest.mark.parametrize(("sweeps", "expected"), [
    ([], None),
    ([S.PENDING], E.RUNNING),
    ([S.RUNNING, S.PAUSED], E.RUNNING),
    ([S.COMPLETED, S.RUNNING], E.RUNNING),
    ([S.PAUSED, S.COMPLETED], E.PAUSED),
    ([S.STOPPED, S.PAUSED], E.COMPLETED),
    ([S.FAILED], E.COMPLETED),
])
def test_the_experiment_runs_while_any_sweep_is_active_and_is_paused_only_when_its_latest_sweep_is(sweeps, expected):
    assert experiment_status_of(sweeps) == expected
