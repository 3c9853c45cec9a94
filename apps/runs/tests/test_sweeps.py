"""Sweeps through the REST API, driven in-process against the fake LLM server."""

import json

import pytest

from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Run, StageResult, Sweep

pytestmark = pytest.mark.django_db(transaction=True)


def start(api, experiment, **body):
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")
    assert response.status_code == 202, response.content
    return Sweep.objects.get(pk=response.json()["sweep"]["id"])


def test_a_grid_sweep_runs_every_combination_over_every_item_and_repeat(api, make_experiment, enqueued, fake_llm):
    experiment = make_experiment(repeats=2)
    sweep = start(api, experiment, type="grid")
    assert enqueued == [str(sweep.pk)]
    assert sweep.runs_total == 6 and sweep.calls_total == 6 * 5 * 2 * 2

    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == 6
    assert set(Run.objects.values_list("status", flat=True)) == {Run.Status.COMPLETED}
    assert StageResult.objects.count() == 120 and fake_llm.stats["chat"] == 120
    assert sweep.tokens_in > 0 and sweep.tokens_out > 0 and sweep.cost_usd > 0
    points = {(r.point["stages.0.model"], r.point["stages.0.params.temperature"]) for r in Run.objects.all()}
    assert points == {(m, t) for m in ("fake-chat", "fake-chat-large") for t in (0.1, 0.3, 0.5)}
    run = Run.objects.first()
    second_stage = StageResult.objects.filter(run=run, stage_index=1).first()
    first_stage = StageResult.objects.get(run=run, item_id=second_stage.item_id, repeat=second_stage.repeat,
                                          stage_index=0)
    assert first_stage.response_raw in second_stage.prompt_sent[-1]["content"]
    kinds = list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
    assert kinds.count("run.completed") == 6 and "experiment.started" in kinds and "experiment.completed" in kinds


def test_repeats_get_distinct_cache_entries(api, make_experiment, enqueued):
    experiment = make_experiment(repeats=3, n_items=1, space=[])
    sweep_drive(str(start(api, experiment).pk))
    assert ResponseCache.objects.count() == 3 * 2


def test_a_second_identical_sweep_is_fully_cached_and_spends_no_tokens(api, make_experiment, enqueued, fake_llm):
    experiment = make_experiment()
    sweep_drive(str(start(api, experiment).pk))
    fake_llm.reset_stats()

    again = start(api, experiment)
    sweep_drive(str(again.pk))

    again.refresh_from_db()
    assert fake_llm.stats["chat"] == 0
    assert set(Run.objects.filter(sweep=again).values_list("status", flat=True)) == {Run.Status.CACHED}
    assert again.tokens_in == again.tokens_out == 0 and again.cost_usd == 0
    assert again.cache_hits == again.calls_total == 6 * 5 * 2


def test_a_random_sweep_respects_n_and_its_seed(api, make_experiment, enqueued):
    experiment = make_experiment(space=[
        {"path": "stages.0.params.temperature", "min": 0.0, "max": 1.0, "distribution": "uniform"},
        {"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
    ])
    body = {"type": "random", "n": 4, "seed": 7, "dry_run": True}
    first = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json").json()
    second = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json").json()
    other = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {**body, "seed": 8}, format="json").json()
    assert first["points"] == second["points"] and len(first["points"]) == 4
    assert first["points"] != other["points"]
    sweep = start(api, experiment, type="random", n=4, seed=7)
    def canonical(points):
        return sorted(json.dumps(p, sort_keys=True) for p in points)

    assert canonical(Run.objects.filter(sweep=sweep).values_list("point", flat=True)) == canonical(first["points"])


def test_a_random_sweep_without_n_is_refused_naming_n(api, make_experiment, enqueued):
    response = api.post(f"/api/v1/experiments/{make_experiment().pk}/sweep", {"type": "random"}, format="json")
    assert response.status_code == 400 and "n" in response.json()


def test_a_dry_run_counts_cached_calls_as_free(api, make_experiment, enqueued):
    experiment = make_experiment()
    before = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"dry_run": True}, format="json").json()
    assert before["estimate"]["cached_calls"] == 0 and before["estimate"]["uncached_calls"] == 60
    assert before["estimate"]["cost_usd"] > 0
    sweep_drive(str(start(api, experiment).pk))
    after = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"dry_run": True}, format="json").json()
    assert after["estimate"]["cached_calls"] == 60 and after["estimate"]["cost_usd"] == 0
    assert Sweep.objects.count() == 1


def test_a_sweep_over_the_call_limit_is_refused_with_the_numbers(api, make_experiment, enqueued, settings):
    from apps.core.models import SystemSettings

    system = SystemSettings.load()
    system.max_calls_per_sweep = 50
    system.save()
    response = api.post(f"/api/v1/experiments/{make_experiment().pk}/sweep", {}, format="json")
    assert response.status_code == 400
    message = response.json()["parameter_space"][0]
    assert "6 points" in message and "at most 50 LLM calls" in message
    assert not Sweep.objects.exists() and not Run.objects.exists()


def test_a_failing_stage_fails_its_run_with_the_error_and_the_sweep_goes_on(api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(n_items=2, space=[{"path": "stages.1.model", "values": ["fake-chat", "fault-400"]}])
    sweep = start(api, experiment)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    failed = Run.objects.get(status=Run.Status.FAILED)
    assert failed.point == {"stages.1.model": "fault-400"}
    assert "summarize" in failed.error and "400" in failed.error
    # Partial results: the first stage's outputs are kept for every item.
    assert StageResult.objects.filter(run=failed, stage_index=0, error="").count() == 2
    assert Run.objects.get(status=Run.Status.COMPLETED).point == {"stages.1.model": "fake-chat"}
    assert Event.objects.filter(kind="run.failed", run=failed).exists()


def test_a_flaky_endpoint_is_retried_until_it_answers(api, make_experiment, enqueued, fake_llm):
    experiment = make_experiment(n_items=1, space=[{"path": "stages.0.model", "values": ["flaky-500-1"]}])
    sweep_drive(str(start(api, experiment).pk))
    assert Run.objects.get().status == Run.Status.COMPLETED
    assert fake_llm.stats["chat"] == 3  # one failure, one success for stage 0, then stage 1


def test_pause_before_driving_runs_nothing_and_resume_finishes(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment)
    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").json()["status"] == "paused"
    sweep_drive(str(sweep.pk))
    assert set(Run.objects.values_list("status", flat=True)) == {Run.Status.PENDING}
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").json()["status"] == "running"
    assert enqueued == [str(sweep.pk), str(sweep.pk)]
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == 6


def test_stop_cancels_every_pending_run(api, make_experiment, enqueued, fake_llm):
    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/stop")
    assert response.json()["status"] == "stopped"
    sweep_drive(str(sweep.pk))
    assert set(Run.objects.values_list("status", flat=True)) == {Run.Status.CANCELLED}
    assert fake_llm.stats["chat"] == 0
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 409


def test_redirect_replaces_only_the_unstarted_runs(api, make_experiment, enqueued):
    from apps.runs.services.recording import runs_claim

    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment)
    started = runs_claim(sweep_id=sweep.pk, owner="dead-driver", limit=2)
    response = api.post(
        f"/api/v1/experiments/{experiment.pk}/redirect",
        {"parameter_space": [{"path": "stages.0.params.temperature", "values": [0.9, 1.1]}]}, format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["removed_runs"] == 4 and response.json()["added_runs"] == 2
    kept = set(Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).values_list("id", flat=True))
    assert {str(k) for k in kept} == {r.id for r in started}
    new_points = [r.point for r in Run.objects.filter(sweep=sweep, status=Run.Status.PENDING).order_by("position")]
    assert new_points == [{"stages.0.params.temperature": 0.9}, {"stages.0.params.temperature": 1.1}]
    # The dead driver's lease expires; the next driver takes its runs over and finishes everything.
    Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).update(lease_expires_at="2000-01-01T00:00:00Z")
    sweep_drive(str(sweep.pk))
    assert Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).count() == 4


def test_redirect_with_a_bad_path_is_refused_and_changes_nothing(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect",
                        {"parameter_space": [{"path": "stages.7.model", "values": ["x"]}]}, format="json")
    assert response.status_code == 400 and "parameter_space.0.path" in response.json()
    assert Run.objects.filter(sweep=sweep).count() == 6


def test_fork_makes_a_new_experiment_from_a_runs_config(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep_drive(str(start(api, experiment).pk))
    run = Run.objects.get(point={"stages.0.model": "fake-chat-large", "stages.0.params.temperature": 0.3})
    space = [{"path": "stages.1.params.temperature", "values": [0.0, 0.4]}]
    response = api.post(f"/api/v1/runs/{run.pk}/fork", {"parameter_space": space, "name": "forked"}, format="json")
    assert response.status_code == 201, response.content
    fork = response.json()
    assert fork["pipeline_stages"][0]["model"] == "fake-chat-large"
    assert fork["pipeline_stages"][0]["params"]["temperature"] == 0.3
    assert fork["parameter_space"][0]["path"] == "stages.1.params.temperature"


def test_approve_and_reject_mark_the_run_and_log_events(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep_drive(str(start(api, experiment).pk))
    first, second = Run.objects.all()[:2]
    assert api.post(f"/api/v1/runs/{first.pk}/approve").json()["approval"] == "approved"
    assert api.post(f"/api/v1/runs/{second.pk}/reject").json()["approval"] == "rejected"
    assert Event.objects.filter(kind__in=["run.approved", "run.rejected"]).count() == 2
    rejected = api.get(f"/api/v1/experiments/{experiment.pk}/runs?approval=rejected").json()["results"]
    assert [r["id"] for r in rejected] == [str(second.pk)]


def test_an_adhoc_run_over_inline_input_runs_one_configuration(api, make_experiment, enqueued):
    experiment = make_experiment()
    response = api.post("/api/v1/runs", {
        "experiment": str(experiment.pk), "point": {"stages.0.params.temperature": 0.9},
        "input": [{"id": "x", "input": "REPLY: scripted answer"}],
    }, format="json")
    assert response.status_code == 202, response.content
    run = Run.objects.get(pk=response.json()["id"])
    sweep_drive(str(run.sweep_id))
    detail = api.get(f"/api/v1/runs/{run.pk}").json()
    assert detail["status"] == "completed"
    assert [(s["item_id"], s["stage_index"]) for s in detail["stage_results"]] == [("x", 0), ("x", 1)]
    assert detail["stage_results"][0]["parameters"]["temperature"] == 0.9


def test_runs_are_listed_sortable_and_filterable(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep_drive(str(start(api, experiment).pk))
    listing = api.get(f"/api/v1/experiments/{experiment.pk}/runs?ordering=-tokens_in&page_size=2").json()
    assert listing["count"] == 6 and len(listing["results"]) == 2
    assert listing["results"][0]["tokens_in"] >= listing["results"][1]["tokens_in"]
    assert api.get(f"/api/v1/experiments/{experiment.pk}/runs?status=failed").json()["count"] == 0


def test_another_user_cannot_see_or_steer_my_sweep(api, other_api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment)
    run = Run.objects.filter(sweep=sweep).first()
    assert other_api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json").status_code == 404
    assert other_api.post(f"/api/v1/experiments/{experiment.pk}/stop").status_code == 404
    assert other_api.get(f"/api/v1/runs/{run.pk}").status_code == 404
    assert other_api.post(f"/api/v1/runs/{run.pk}/approve").status_code == 404
    assert other_api.get(f"/api/v1/experiments/{experiment.pk}/runs").status_code == 404
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PENDING


def test_guests_can_read_runs_but_not_steer(anon_api, api, guest_mode, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment)
    run = Run.objects.filter(sweep=sweep).first()
    assert anon_api.get(f"/api/v1/runs/{run.pk}").status_code == 200
    assert anon_api.get(f"/api/v1/experiments/{experiment.pk}/runs").status_code == 200
    assert anon_api.post(f"/api/v1/experiments/{experiment.pk}/pause").status_code in (401, 403)
    assert anon_api.post(f"/api/v1/runs/{run.pk}/approve").status_code in (401, 403)


def test_invalidating_a_runs_cache_makes_the_next_sweep_call_again(api, make_experiment, enqueued, fake_llm):
    experiment = make_experiment(n_items=1)
    sweep_drive(str(start(api, experiment).pk))
    run = Run.objects.first()
    deleted = api.delete(f"/api/v1/runs/{run.pk}/cache").json()["deleted_entries"]
    assert deleted == 2
    fake_llm.reset_stats()
    sweep_drive(str(start(api, experiment).pk))
    assert fake_llm.stats["chat"] == 2
    assert api.delete(f"/api/v1/experiments/{experiment.pk}/cache").json()["deleted_entries"] == 12


def test_a_token_budget_pauses_the_sweep_with_an_event(api, make_experiment, endpoint, enqueued):
    endpoint.max_concurrency = 1
    endpoint.save()
    experiment = make_experiment(n_items=1)
    sweep = start(api, experiment, budget_tokens=1)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED and "token budget" in sweep.pause_reason
    assert Run.objects.filter(sweep=sweep, status=Run.Status.PENDING).exists()
    event = Event.objects.get(kind="budget.exhausted")
    assert event.payload["token_count"] >= 1
