"""Sweep rules read the planners' traits, so a new planner is one module plus one registry line."""

import pytest

from apps.api.serializers.runs import RedirectInput
from apps.engine.planners import PLANNERS, redirect_kinds
from apps.runs.models import Run, Sweep

pytestmark = pytest.mark.django_db

SCORED = {"scorers": [{"type": "length", "options": {"unit": "chars", "min": 1, "max": 30}}]}


def test_a_redirect_offers_exactly_the_planners_that_plan_a_whole_space():
    assert redirect_kinds() == [kind for kind in PLANNERS if PLANNERS.get(kind).redirectable] == ["grid", "random"]
    assert list(RedirectInput().fields["type"].choices) == ["grid", "random"]


def test_a_redirect_to_a_guided_plan_is_refused_naming_the_type(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect",
                        {"type": "guided", "parameter_space": []}, format="json")
    assert response.status_code == 400
    assert response.json() == {"type": ['"guided" is not a valid choice.']}


def test_redirecting_a_guided_sweep_without_a_type_plans_the_new_space_as_a_grid(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1, scoring_config=SCORED)
    started = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "guided", "n": 6, "batch": 2},
                       format="json")
    assert started.status_code == 202, started.content
    space = [{"path": "stages.0.params.temperature", "values": [0.0, 0.4, 0.8]}]
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect", {"parameter_space": space}, format="json")
    assert response.status_code == 200, response.content
    sweep = Sweep.objects.get(pk=started.json()["sweep"]["id"])
    pending = Run.objects.filter(sweep=sweep, status=Run.Status.PENDING).order_by("position")
    assert [run.point for run in pending] == [{"stages.0.params.temperature": t} for t in (0.0, 0.4, 0.8)]


def test_a_guided_sweep_without_a_weighted_scorer_is_refused_with_the_same_message(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "guided", "n": 5}, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == ["A guided sweep steers by score: add a weighted scorer first."]
