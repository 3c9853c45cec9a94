import pytest

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.activity.tests.builders import experiment_of
from apps.runs.models import Sweep


@pytest.fixture
def timeline(owner):
    """An owner's experiment with a sweep that started, completed a run and found a new best."""
    experiment = experiment_of(owner)
    sweep = Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID)
    for kind in (Kind.SWEEP_STARTED, Kind.RUN_COMPLETED, Kind.NEW_BEST):
        event_emit(kind=kind, experiment=experiment, sweep=sweep)
    return experiment, sweep
