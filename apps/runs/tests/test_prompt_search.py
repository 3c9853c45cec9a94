"""prompt_search sweeps: a proposer LLM rewrites a prompt axis from the worst items, round after round."""

import pytest

from apps.activity.models import Event
from apps.endpoints.models import Endpoint
from apps.fakellm.demo import RUBRIC_KEYWORDS
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep

pytestmark = pytest.mark.django_db(transaction=True)

WEAK_PROMPT = "You are a support agent."


@pytest.fixture
def demo_experiment(make_experiment, endpoint):
    def make(n_items=12, **extra):
        stages = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "demo-pro",
                   "system_prompt": WEAK_PROMPT, "prompt_template": "Customer: {{ input }}",
                   "params": {"temperature": 0.0}}]
        scoring = {"scorers": [{"type": "keyword", "options": {"keywords": RUBRIC_KEYWORDS, "mode": "all"}}]}
        return make_experiment(stages=stages, n_items=n_items, space=[], scoring_config=scoring, **extra)
    return make


def start(api, experiment, endpoint, **options):
    body = {"type": "prompt_search", "options": {
        "proposer": {"endpoint": str(endpoint.pk), "model": "proposer-fake"}, **options}}
    return api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")


def events(sweep, kind):
    return [e.payload for e in Event.objects.filter(sweep=sweep, kind=kind).order_by("id")]


def test_a_weak_seed_prompt_improves_over_rounds_and_patience_ends_the_search(api, demo_experiment, endpoint,
                                                                               enqueued, fake_llm):
    experiment = demo_experiment()
    response = start(api, experiment, endpoint, k=4, rounds=6, patience=2)
    assert response.status_code == 202, response.content
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED

    rounds = events(sweep, "prompt_search.round")
    assert [r["round"] for r in rounds] == list(range(len(rounds)))
    assert rounds[-1]["finished"] == "patience" and len(rounds) < 7  # stopped before the 6 rounds
    assert rounds[1]["improved"] and rounds[1]["best_score"] > rounds[0]["best_score"] + 0.1
    assert rounds[-1]["best_score"] >= 0.9 and "Always mention" in rounds[-1]["best_prompt"]

    proposals = events(sweep, "prompt_search.proposals")
    assert len(proposals) == len(rounds) - 1
    assert len(proposals[0]["variants"]) == 4 and "miss" in proposals[0]["reasoning"]
    assert all(v.startswith(WEAK_PROMPT) for v in proposals[0]["variants"])
    runs = Run.objects.filter(sweep=sweep)
    assert runs.count() == 1 + sum(p["planned_runs"] for p in proposals)
    assert len(set(runs.values_list("config_hash", flat=True))) == runs.count()


def test_the_proposer_reads_the_worst_items_outputs_and_the_scorers_explanations(api, demo_experiment, endpoint,
                                                                                 enqueued, fake_llm):
    experiment = demo_experiment(n_items=4)
    sweep = Sweep.objects.get(pk=start(api, experiment, endpoint, rounds=1, worst=2).json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    from apps.runs.models import ResponseCache

    entry = ResponseCache.objects.get(model="proposer-fake")
    assert entry.origin_run == str(sweep.pk)
    sweep.refresh_from_db()
    usage = sweep.request["planner_usage"]
    assert usage["calls"] == 1 and usage["tokens_in"] == entry.tokens_in
    runs_tokens = sum(r.tokens_in for r in Run.objects.filter(sweep=sweep))
    assert sweep.tokens_in == runs_tokens + entry.tokens_in  # the proposer's tokens count in the sweep's totals


def test_options_are_validated_with_errors_naming_the_field(api, other_api, demo_experiment, endpoint, enqueued,
                                                          other_user):
    experiment = demo_experiment(n_items=2)
    theirs = Endpoint.objects.create(owner=other_user, label="theirs", base_url=endpoint.base_url)
    cases = [
        ({"proposer": {"endpoint": str(theirs.pk), "model": "m"}}, "options.proposer.endpoint"),
        ({"proposer": {"model": "m"}}, "options.proposer.endpoint"),
        ({"proposer": {"endpoint": str(endpoint.pk), "model": "m"}, "k": 0}, "options.k"),
        ({"proposer": {"endpoint": str(endpoint.pk), "model": "m"}, "axis": "stages.3.system_prompt"}, "options.axis"),
        ({"proposer": {"endpoint": str(endpoint.pk), "model": "m"}, "axis": "stages.0.model"}, "options.axis"),
        ({"proposer": {"endpoint": str(endpoint.pk), "model": "m", "template": "{{ broken"}},
         "options.proposer.template"),
        ({"proposer": {"endpoint": str(endpoint.pk), "model": "m"}, "paitence": 2}, "options.paitence"),
    ]
    for options, field in cases:
        response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep",
                            {"type": "prompt_search", "options": options}, format="json")
        assert response.status_code == 400 and field in response.json(), (options, response.content)
    assert not Sweep.objects.exists()



def test_a_token_budget_pauses_the_search_and_resume_continues_without_repeating_proposals(
        api, demo_experiment, endpoint, enqueued, fake_llm):
    experiment = demo_experiment(n_items=6)
    body = {"type": "prompt_search", "budget_tokens": 1500, "options": {
        "proposer": {"endpoint": str(endpoint.pk), "model": "proposer-fake"}, "k": 3, "rounds": 3, "patience": 3}}
    sweep = Sweep.objects.get(pk=api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body,
                                          format="json").json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED and "token budget" in sweep.pause_reason
    assert Event.objects.filter(sweep=sweep, kind="budget.exhausted").exists()
    rounds_before = len(events(sweep, "prompt_search.round"))
    assert rounds_before < 4

    Sweep.objects.filter(pk=sweep.pk).update(budget_tokens=None)
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 200
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    proposals = events(sweep, "prompt_search.proposals")
    assert [p["round"] for p in proposals] == [1, 2, 3]
    assert events(sweep, "prompt_search.round")[-1]["finished"] == "rounds"
    assert sweep.tokens_in + sweep.tokens_out > 1500


def test_a_driver_that_dies_after_the_proposer_answered_continues_without_duplicating_proposals(
        api, demo_experiment, endpoint, enqueued, fake_llm, monkeypatch):
    from apps.runs.services import prompt_search

    experiment = demo_experiment(n_items=4)
    sweep = Sweep.objects.get(pk=start(api, experiment, endpoint, k=2, rounds=2, patience=2).json()["sweep"]["id"])
    recorded = prompt_search.round_record

    def crash(**kwargs):
        raise SystemExit("the worker was killed")  # the reply is lost with the process: nothing was written

    monkeypatch.setattr(prompt_search, "round_record", crash)
    with pytest.raises(SystemExit):
        sweep_drive(str(sweep.pk))
    assert fake_llm.stats["chat"] == 4 + 1  # the seed run's items, then one proposer call
    assert not events(sweep, "prompt_search.proposals")

    monkeypatch.setattr(prompt_search, "round_record", recorded)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    proposals = events(sweep, "prompt_search.proposals")
    assert [p["round"] for p in proposals] == [1, 2]
    prompts = list(Run.objects.filter(sweep=sweep).values_list("point", flat=True))
    assert len(prompts) == len({str(p) for p in prompts}) == 1 + sum(p["planned_runs"] for p in proposals)
    assert sweep.request["planner_usage"]["calls"] == 2
