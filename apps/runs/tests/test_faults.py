"""LLM faults inside sweeps: retried when they can be, clear failures when not; the sweep finishes."""

import pytest

from apps.runs.driver import sweep_drive
from apps.runs.models import Run, StageResult, Sweep

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.LLM_RETRY = {"max_attempts": 3, "base_delay_s": 0.01, "max_delay_s": 0.05, "retry_after_cap_s": 0.05}


def one_stage(endpoint, model):
    return [{"name": "answer", "endpoint": str(endpoint.pk), "model": model, "prompt_template": "Q: {{ input }}",
             "params": {"temperature": 0.3}}]


def sweep_over_models(api, make_experiment, endpoint, models, n_items=2):
    experiment = make_experiment(stages=one_stage(endpoint, "fake-chat"), n_items=n_items,
                                 space=[{"path": "stages.0.model", "values": models}])
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    return sweep, {r.point["stages.0.model"]: r for r in Run.objects.filter(sweep=sweep)}


def test_every_fault_ends_in_a_retry_or_a_clear_failure_and_the_sweep_completes(api, make_experiment, endpoint,
                                                                                enqueued, fake_llm):
    endpoint.read_timeout_s = 0.3
    endpoint.save()
    models = ["fake-chat", "fault-429", "fault-500", "fault-hang", "fault-truncate", "fault-malformed", "fault-400",
              "flaky-429-1", "flaky-500-2"]
    sweep, runs = sweep_over_models(api, make_experiment, endpoint, models, n_items=1)
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == len(models)
    for ok in ("fake-chat", "flaky-429-1", "flaky-500-2"):
        assert runs[ok].status == Run.Status.COMPLETED, (ok, runs[ok].error)
    expected = {"fault-429": "429", "fault-500": "500", "fault-hang": "", "fault-truncate": "ended early",
                "fault-malformed": "", "fault-400": "400"}
    for model, words in expected.items():
        run = runs[model]
        assert run.status == Run.Status.FAILED, model
        assert "answer" in run.error and words in run.error, (model, run.error)
    attempts = {model: sum(1 for body in fake_llm.stats.bodies if body.get("model") == model) for model in models}
    assert attempts["fault-400"] == 1  # a client error is not retried
    assert attempts["fault-500"] == 3 and attempts["fault-429"] == 3 and attempts["fault-truncate"] == 3
    assert attempts["flaky-500-2"] == 3


def test_a_failed_call_is_not_cached_so_the_next_sweep_tries_again(api, make_experiment, endpoint, enqueued, fake_llm):
    sweep, runs = sweep_over_models(api, make_experiment, endpoint, ["fault-500"], n_items=1)
    assert runs["fault-500"].status == Run.Status.FAILED
    assert StageResult.objects.get(run=runs["fault-500"]).error
    fake_llm.reset_stats()
    sweep_over_models(api, make_experiment, endpoint, ["fault-500"], n_items=1)
    assert fake_llm.stats["chat"] == 3
