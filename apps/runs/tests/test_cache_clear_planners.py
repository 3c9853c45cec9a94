"""Clearing an experiment's cache removes its planners' cached replies too (a proposer's, an agent's), and the
admin's origin of such an entry links its sweep."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Sweep
from apps.runs.tests.test_agent_sweeps import call, script

pytestmark = pytest.mark.django_db(transaction=True)

SCORING = {"scorers": [{"type": "length", "options": {"unit": "chars", "min": 1, "max": 400}}]}
SPACE = [{"path": "stages.0.params.temperature", "values": [0.1, 0.9]}]


def one_stage(endpoint) -> list[dict]:
    return [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "system_prompt": "Answer.",
             "prompt_template": "{{ input }}", "params": {"temperature": 0.5}}]


def swept(api, experiment, **body) -> Sweep:
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")
    assert response.status_code == 202, response.content
    sweep_drive(response.json()["sweep"]["id"])
    return Sweep.objects.get(pk=response.json()["sweep"]["id"])


def clear(api, experiment) -> int:
    response = api.delete(f"/api/v1/experiments/{experiment.pk}/cache")
    assert response.status_code == 200, response.content
    return response.json()["deleted_entries"]


def prompt_search(endpoint) -> dict:
    return {"type": "prompt_search", "options": {"proposer": {"endpoint": str(endpoint.pk), "model": "proposer-fake"},
                                                 "k": 2, "rounds": 1}}


def agent(endpoint) -> dict:
    goal = script(call("run_batch", "try both", configs=[{"stages.0.params.temperature": 0.1}]),
                  call("finish", "done", summary="0.1 it is."))
    return {"type": "agent", "n": 2, "options": {"endpoint": str(endpoint.pk), "model": "agent-script", "goal": goal}}


@pytest.mark.parametrize("kind", ["prompt_search", "agent"])
def test_clearing_an_experiments_cache_removes_its_planners_replies(api, make_experiment, endpoint, enqueued, kind):
    experiment = make_experiment(stages=one_stage(endpoint), n_items=2, space=SPACE, scoring_config=SCORING)
    sweep = swept(api, experiment, **{"prompt_search": prompt_search, "agent": agent}[kind](endpoint))
    assert sweep.status == Sweep.Status.COMPLETED
    planner_model = {"prompt_search": "proposer-fake", "agent": "agent-script"}[kind]
    assert ResponseCache.objects.filter(model=planner_model).exists()

    deleted = clear(api, experiment)

    assert not ResponseCache.objects.filter(model=planner_model).exists()
    assert not ResponseCache.objects.exists() and deleted > 0


def test_a_planner_reply_read_from_another_experiments_sweep_goes_too(api, make_experiment, endpoint, enqueued):
    first = make_experiment(stages=one_stage(endpoint), n_items=2, space=SPACE, scoring_config=SCORING)
    second = make_experiment(stages=one_stage(endpoint), n_items=2, space=SPACE, scoring_config=SCORING)
    swept(api, first, **prompt_search(endpoint))
    sweep = swept(api, second, **prompt_search(endpoint))  # the same proposer prompt: served by first's entry
    assert (sweep.request.get("planner_usage") or {}).get("calls", 0) == 0
    assert ResponseCache.objects.get(model="proposer-fake").origin_run != str(sweep.pk)

    clear(api, second)

    assert not ResponseCache.objects.filter(model="proposer-fake").exists()


def test_another_users_experiment_cache_clear_leaves_the_owners_planner_replies(
        api, other_api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(stages=one_stage(endpoint), n_items=2, space=SPACE, scoring_config=SCORING)
    swept(api, experiment, **prompt_search(endpoint))

    assert other_api.delete(f"/api/v1/experiments/{experiment.pk}/cache").status_code == 404
    assert ResponseCache.objects.filter(model="proposer-fake").exists()


def test_the_admin_links_a_planner_entry_to_its_sweep_and_a_stage_entry_to_its_run(
        api, make_experiment, endpoint, enqueued, client, admin_user):
    experiment = make_experiment(stages=one_stage(endpoint), n_items=2, space=SPACE, scoring_config=SCORING)
    sweep = swept(api, experiment, **prompt_search(endpoint))
    proposer = ResponseCache.objects.get(model="proposer-fake")
    stage = ResponseCache.objects.exclude(model="proposer-fake").first()
    client.force_login(admin_user)

    def page(entry) -> str:
        response = client.get(reverse("admin:runs_responsecache_change", args=[quote(entry.pk)]))
        assert response.status_code == 200
        return response.content.decode()

    assert reverse("admin:runs_sweep_change", args=[quote(str(sweep.pk))]) in page(proposer)
    assert reverse("admin:runs_run_change", args=[quote(stage.origin_run)]) in page(stage)
