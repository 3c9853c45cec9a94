import pytest

from apps.exports.tests.builders import make_endpoint, make_experiment, make_run, make_sweep
from apps.runs.models import Run


@pytest.fixture
def endpoint(owner):
    return make_endpoint(owner)


@pytest.fixture
def experiment(owner, endpoint):
    return make_experiment(owner, endpoint)


@pytest.fixture
def runs(experiment):
    """baseline (base config), best, a rejected higher score, a middling one and a pending one."""
    sweep = make_sweep(experiment)
    return {
        "baseline": make_run(experiment, sweep=sweep, position=0, score=0.60,
                             point={"stages.0.model": "small-model", "stages.0.params.temperature": 0.5}),
        "best": make_run(experiment, sweep=sweep, position=1, score=0.90,
                         point={"stages.0.model": "big-model", "stages.0.params.temperature": 0.1}),
        "rejected": make_run(experiment, sweep=sweep, position=2, score=0.95, approval=Run.Approval.REJECTED,
                             point={"stages.0.model": "big-model", "stages.0.params.temperature": 0.5}),
        "middling": make_run(experiment, sweep=sweep, position=3, score=0.70,
                             point={"stages.0.model": "small-model", "stages.0.params.temperature": 0.1}),
        "pending": make_run(experiment, sweep=sweep, position=4, score=None, status=Run.Status.PENDING,
                            point={"stages.0.model": "huge-model", "stages.0.params.temperature": 0.1}),
    }

