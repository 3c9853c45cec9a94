"""The response cache is per owner: another user's identical call is never served from, nor evicts, yours."""

import pytest

from apps.endpoints.models import Endpoint
from apps.experiments.services import experiment_create
from apps.projects.models import Project
from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Run, Sweep
from apps.runs.tests.conftest import items, two_stage

pytestmark = pytest.mark.django_db(transaction=True)

SPACE = [{"path": "stages.0.params.temperature", "values": [0.1, 0.3]}]
CALLS = 2 * 3 * 2  # runs × items × stages
JUDGE_PROMPT = "Rate it: {{ output }}\nREPLY: SCORE: 7"


def judge_scorer(endpoint) -> dict:
    return {"scorers": [{"type": "llm_judge", "name": "judge", "weight": 1,
                         "options": {"endpoint": str(endpoint.pk), "model": "fake-chat", "prompt": JUDGE_PROMPT}}]}


def own_experiment(user, endpoint, *, judged=False):
    """The same experiment for any user, on that user's own endpoint."""
    project = Project.objects.create(owner=user, name=f"Extraction of {user.username}")
    data = {"name": "exp", "sample_data": items(3), "pipeline_stages": two_stage(endpoint), "parameter_space": SPACE}
    if judged:
        data["scoring_config"] = judge_scorer(endpoint)
    return experiment_create(user=user, project=project, data=data)


def sweep(client, experiment) -> Sweep:
    response = client.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    assert response.status_code == 202, response.content
    swept = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    sweep_drive(str(swept.pk))
    swept.refresh_from_db()
    assert swept.status == Sweep.Status.COMPLETED
    return swept


def judge_calls(fake_llm) -> int:
    return sum(1 for body in fake_llm.stats.bodies if "Rate it:" in str(body.get("messages")))


@pytest.fixture
def their_endpoint(other_user, fake_llm):
    return Endpoint.objects.create(owner=other_user, label="mine too", base_url=fake_llm.base_url, max_concurrency=8,
                                   model_prices={"fake-chat": {"input": 1.0, "output": 2.0}})


@pytest.fixture
def swept_by_owner(api, owner, endpoint, enqueued, fake_llm):
    """The owner's experiment, swept once, with the fake server's counters reset afterwards."""
    experiment = own_experiment(owner, endpoint)
    first = sweep(api, experiment)
    fake_llm.reset_stats()
    return experiment, first


def entries_of(experiment) -> int:
    """Cache entries made by the calls of this experiment's runs."""
    run_ids = [str(pk) for pk in Run.objects.filter(experiment=experiment).values_list("pk", flat=True)]
    return ResponseCache.objects.filter(origin_run__in=run_ids).count()


def test_another_user_with_an_endpoint_at_the_same_url_gets_fresh_calls_not_the_owners_output(
    swept_by_owner, other_api, other_user, their_endpoint, fake_llm
):
    theirs = sweep(other_api, own_experiment(other_user, their_endpoint))

    assert fake_llm.stats["chat"] == CALLS
    assert set(Run.objects.filter(sweep=theirs).values_list("status", flat=True)) == {Run.Status.COMPLETED}
    assert theirs.cache_hits == 0 and theirs.tokens_in > 0 and theirs.cost_usd > 0
    assert ResponseCache.objects.filter(owner=other_user).count() == CALLS


def test_another_user_deleting_their_experiments_cache_leaves_the_owners_entries(
    swept_by_owner, api, owner, other_api, other_user, their_endpoint, fake_llm
):
    experiment, _ = swept_by_owner
    theirs = own_experiment(other_user, their_endpoint)
    sweep(other_api, theirs)
    entries = entries_of(experiment)

    assert other_api.delete(f"/api/v1/experiments/{experiment.pk}/cache").status_code == 404
    response = other_api.delete(f"/api/v1/experiments/{theirs.pk}/cache")
    assert response.status_code == 200 and response.json()["deleted_entries"] == CALLS

    assert entries_of(experiment) == entries == CALLS
    fake_llm.reset_stats()
    again = sweep(api, experiment)
    assert fake_llm.stats["chat"] == 0
    assert again.cache_hits == CALLS and again.tokens_in == again.tokens_out == 0


def test_another_user_deleting_a_runs_cache_leaves_the_owners_entries(
    swept_by_owner, api, owner, other_api, other_user, their_endpoint, fake_llm
):
    experiment, first = swept_by_owner
    their_sweep = sweep(other_api, own_experiment(other_user, their_endpoint))

    mine = Run.objects.filter(sweep=first).first()
    assert other_api.delete(f"/api/v1/runs/{mine.pk}/cache").status_code == 404
    for run in Run.objects.filter(sweep=their_sweep):
        assert other_api.delete(f"/api/v1/runs/{run.pk}/cache").status_code == 200

    assert entries_of(experiment) == CALLS
    fake_llm.reset_stats()
    again = sweep(api, experiment)
    assert fake_llm.stats["chat"] == 0
    assert set(Run.objects.filter(sweep=again).values_list("status", flat=True)) == {Run.Status.CACHED}


def test_the_owners_own_cache_invalidation_still_makes_the_next_sweep_pay(swept_by_owner, api, owner, fake_llm):
    experiment, _ = swept_by_owner
    response = api.delete(f"/api/v1/experiments/{experiment.pk}/cache")
    assert response.status_code == 200 and response.json()["deleted_entries"] == CALLS
    assert entries_of(experiment) == 0
    again = sweep(api, experiment)
    assert fake_llm.stats["chat"] == CALLS and again.cache_hits == 0


def test_a_judge_scorer_call_is_not_served_from_another_users_cache(
    api, owner, endpoint, other_api, other_user, their_endpoint, enqueued, fake_llm
):
    sweep(api, own_experiment(owner, endpoint, judged=True))
    assert judge_calls(fake_llm) == 2 * 3  # one per scored output
    fake_llm.reset_stats()

    sweep(other_api, own_experiment(other_user, their_endpoint, judged=True))

    assert judge_calls(fake_llm) == 2 * 3
    assert ResponseCache.objects.filter(owner=other_user, origin_run="judge").count() == 2 * 3
    assert ResponseCache.objects.filter(owner=owner, origin_run="judge").count() == 2 * 3


def test_a_dry_run_counts_only_the_users_own_cached_calls_as_free(
    swept_by_owner, api, other_api, other_user, their_endpoint
):
    experiment, _ = swept_by_owner
    theirs = own_experiment(other_user, their_endpoint)

    estimate = other_api.post(f"/api/v1/experiments/{theirs.pk}/sweep", {"dry_run": True}, format="json").json()
    assert estimate["estimate"]["cached_calls"] == 0 and estimate["estimate"]["uncached_calls"] == CALLS
    mine = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"dry_run": True}, format="json").json()
    assert mine["estimate"]["cached_calls"] == CALLS and mine["estimate"]["cost_usd"] == 0
