"""The dry-run estimate computes the same cache keys as the pipeline, from prompts rendered once each."""

import pytest

from apps.endpoints.models import Endpoint
from apps.engine.hashing import CallKeys, call_cache_key, canonical_json
from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Sweep
from apps.runs.services import estimate

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = [{"id": "é1", "input": "Grüße aus Köln — “quoted” \\ and \t tabs"},
         {"id": "i2", "input": "日本語のテキスト"}]
SPACE = [
    {"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
    {"path": "stages.1.params.temperature", "values": [0.1 + 0.2, 1.0, 0]},
]


@pytest.fixture
def slashed_endpoint(owner, fake_llm):
    # A trailing slash and prices: the key strips the one, the estimate's cost uses the other.
    return Endpoint.objects.create(owner=owner, label="slashed", base_url=fake_llm.base_url + "/",
                                   model_prices={"fake-chat": {"input": 1.0, "output": 2.0}})


def stages(endpoint) -> list[dict]:
    return [
        {"name": "extract", "endpoint": str(endpoint.pk), "model": "fake-chat", "system_prompt": "Facts of {{ id }}.",
         "prompt_template": "Extract from: {{ input }}", "params": {"max_tokens": 40, "top_p": 0.9, "seed": 3}},
        {"name": "summarize", "endpoint": str(endpoint.pk), "model": "fake-chat",
         "prompt_template": "Summarize: {{ previous }} ({{ stages.extract.output | length }} chars)",
         "params": {"temperature": 0.2, "stop": ["\n\n"], "x_flag": True}},
    ]


def post(api, experiment, **body):
    return api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")


def dry_run(api, experiment, **body) -> dict:
    response = post(api, experiment, dry_run=True, **body)
    assert response.status_code == 200, response.content
    return response.json()["estimate"]


def sweep(api, experiment, **body) -> None:
    response = post(api, experiment, **body)
    assert response.status_code == 202, response.content
    sweep_drive(response.json()["sweep"]["id"])
    assert Sweep.objects.get(pk=response.json()["sweep"]["id"]).status == Sweep.Status.COMPLETED


def test_after_a_sweep_a_dry_run_of_the_same_space_finds_every_call_cached(
        api, make_experiment, slashed_endpoint, enqueued):
    experiment = make_experiment(stages=stages(slashed_endpoint), space=SPACE, repeats=2)
    experiment.sample_data = ITEMS
    experiment.save(update_fields=["sample_data"])
    calls = 6 * len(ITEMS) * 2 * 2
    before = dry_run(api, experiment)
    assert before["uncached_calls"] == calls and before["cost_usd"] > 0

    sweep(api, experiment)

    assert ResponseCache.objects.count() == 2 * 2 * 2 + 6 * 2 * 2  # the first stage is shared across temperatures
    after = dry_run(api, experiment)
    assert (after["cached_calls"], after["uncached_calls"], after["cost_usd"]) == (calls, 0, 0)


def test_a_dry_run_of_a_wider_space_counts_only_the_calls_an_earlier_sweep_made_as_free(
        api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(stages=stages(endpoint), space=SPACE, n_items=3)
    sweep(api, experiment, parameter_space=[{"path": "stages.1.params.temperature", "values": [1.0]}])

    wider = dry_run(api, experiment)

    # Of 6 configurations only (fake-chat, 1.0) ran; (fake-chat, *) also share its first stage.
    assert wider["cached_calls"] == 3 * 2 + 3 * 2
    assert wider["uncached_calls"] == 6 * 3 * 2 - wider["cached_calls"]


def test_a_dry_run_renders_each_distinct_prompt_once_not_once_per_run(
        api, make_experiment, endpoint, enqueued, monkeypatch):
    rendered = []
    real = estimate.build_messages
    monkeypatch.setattr(estimate, "build_messages", lambda *a, **kw: rendered.append(1) or real(*a, **kw))
    space = [{"path": f"stages.0.params.x{k}", "values": list(range(10))} for k in range(3)]
    one_stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                  "prompt_template": "Answer: {{ input }}", "params": {"x0": 0, "x1": 0, "x2": 0}}]
    experiment = make_experiment(stages=one_stage, space=space, n_items=2)

    assert dry_run(api, experiment, type="grid")["calls"] == 1000 * 2

    assert len(rendered) == 2


def test_call_keys_built_from_canonical_parts_equal_the_pipelines_key():
    messages = [{"role": "system", "content": "Ünïcode “quotes” \\ \n"}, {"role": "user", "content": "日本"}]
    params_list = [
        {}, {"temperature": 0.1 + 0.2, "max_tokens": 64.0, "top_p": 1, "seed": -0.0},
        {"b": True, "a": None, "stop": ["\n", "END"], "nested": {"z": 1.5, "y": [1, 2.0]}},
        {"flag": True, "one": 1, "float_one": 1.0, "big": 10**20, "tiny": 1e-12, "ü": "x"},
    ]
    keys = CallKeys(owner="42")
    for base_url in ("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/"):
        for model in ("fake-chat", "ünï-model"):
            for params in params_list:
                for repeat in (0, 3):
                    expected = call_cache_key(owner="42", provider="openai", base_url=base_url, model=model,
                                              messages=messages, params=params, repeat=repeat)
                    assert keys.params_json(params) == canonical_json(params)
                    assert keys.key(provider="openai", base_url=base_url, model=model,
                                    messages_json=canonical_json(messages), params_json=keys.params_json(params),
                                    repeat=repeat) == expected
