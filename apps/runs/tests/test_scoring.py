"""Scoring end to end: a sweep with four weighted scorers ranks crafted outputs as expected."""

import pytest

from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Score, ScoreSummary, Sweep
from apps.runs.rescoring import experiment_rescore

pytestmark = pytest.mark.django_db(transaction=True)

OUTPUTS = {
    "A": '{"answer": "Paris"}',
    "B": "Paris",
    "C": '{"answer": "London"}',
    "D": "I really do not know the answer to this question at all",
}
JUDGE_PROMPT = "Rate it.\nREPLY: SCORE: {{ [output|length, 10]|min }}"


def scorers(endpoint, judge_weight=1):
    return {"scorers": [
        {"type": "keyword", "weight": 3, "options": {"keywords": ["Paris"]}},
        {"type": "format", "weight": 2, "options": {"kind": "json"}},
        {"type": "length", "weight": 1, "options": {"unit": "words", "min": 1, "max": 5}},
        {"type": "llm_judge", "name": "judge", "weight": judge_weight,
         "options": {"endpoint": str(endpoint.pk), "model": "fake-chat", "prompt": JUDGE_PROMPT}},
    ]}


@pytest.fixture
def scored_experiment(make_experiment, endpoint):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
              "prompt_template": "{{ input }}", "params": {"temperature": 0}}]
    space = [{"path": "stages.0.prompt_template", "values": [f"REPLY: {text}" for text in OUTPUTS.values()]}]
    return make_experiment(stages=stage, n_items=2, space=space, scoring_config=scorers(endpoint))


def run_for(label: str) -> Run:
    return Run.objects.get(point={"stages.0.prompt_template": f"REPLY: {OUTPUTS[label]}"})


def start_and_drive(api, experiment) -> Sweep:
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    return sweep


def test_four_weighted_scorers_rank_the_crafted_outputs(api, scored_experiment, enqueued):
    start_and_drive(api, scored_experiment)
    board = api.get(f"/api/v1/experiments/{scored_experiment.pk}/leaderboard").json()
    order = [row["run_id"] for row in board["results"]]
    assert order == [str(run_for(label).pk) for label in "ABCD"]
    top = board["results"][0]
    assert top["weighted_score"] == pytest.approx(1.0)
    assert set(top["scores"]) == {"keyword", "format", "length", "judge"}
    assert top["scores"]["keyword"]["n"] == 2 and top["scores"]["judge"]["mean"] == pytest.approx(1.0)
    b_row = board["results"][1]
    assert b_row["weighted_score"] == pytest.approx((3 + 0 + 1 + 4 / 9) / 7, abs=1e-6)
    assert Event.objects.filter(kind="new_best_found").exists()


def test_the_leaderboard_sorts_by_one_scorer_and_leaves_out_rejected_runs(api, scored_experiment, enqueued):
    start_and_drive(api, scored_experiment)
    api.post(f"/api/v1/runs/{run_for('A').pk}/reject")
    board = api.get(f"/api/v1/experiments/{scored_experiment.pk}/leaderboard?sort=format").json()
    ids = [row["run_id"] for row in board["results"]]
    assert str(run_for("A").pk) not in ids
    assert ids[0] == str(run_for("C").pk)  # the only remaining valid-JSON output
    bad = api.get(f"/api/v1/experiments/{scored_experiment.pk}/leaderboard?sort=nope")
    assert bad.status_code == 400 and "sort" in bad.json()


def test_rescoring_after_a_weight_change_makes_no_generation_calls(api, scored_experiment, endpoint, enqueued,
                                                                   fake_llm, monkeypatch):
    start_and_drive(api, scored_experiment)
    queued = []
    monkeypatch.setattr("apps.core.queue.async_task", lambda *a, **k: queued.append(a))
    fake_llm.reset_stats()
    config = scorers(endpoint, judge_weight=10)
    response = api.patch(f"/api/v1/experiments/{scored_experiment.pk}", {"scoring_config": config}, format="json")
    assert response.status_code == 200, response.content
    assert queued == [("apps.runs.tasks.experiment_rescore", str(scored_experiment.pk))]
    experiment_rescore(experiment_id=str(scored_experiment.pk))
    generation = [b for b in fake_llm.stats.bodies if "Rate it." not in str(b.get("messages"))]
    assert generation == []
    assert fake_llm.stats["chat"] == 0  # the judge's calls came from the cache too
    d_score = Run.objects.get(pk=run_for("D").pk).weighted_score
    assert d_score == pytest.approx(10 / 16)
    assert Event.objects.filter(kind="scoring.completed", experiment=scored_experiment).exists()


def test_a_scorer_error_is_recorded_and_not_averaged_as_zero(api, make_experiment, endpoint, enqueued):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}"}]
    config = {"scorers": [
        {"type": "keyword", "weight": 1, "options": {"keywords": ["document"]}},
        {"type": "llm_judge", "name": "judge", "weight": 1,
         "options": {"endpoint": str(endpoint.pk), "model": "fault-400", "prompt": "{{ output }}"}},
    ]}
    experiment = make_experiment(stages=stage, n_items=2, space=[], scoring_config=config)
    start_and_drive(api, experiment)
    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED
    judge = ScoreSummary.objects.get(run=run, scorer_name="judge")
    assert judge.errored == 2 and judge.mean is None and judge.n == 0
    assert Score.objects.filter(run=run, scorer_name="judge").exclude(error="").count() == 2
    assert run.weighted_score == pytest.approx(1.0)  # only the keyword scorer counts


def test_a_human_rating_updates_the_aggregates_and_the_leaderboard(api, scored_experiment, enqueued, other_api):
    start_and_drive(api, scored_experiment)
    run_d = run_for("D")
    response = api.post(f"/api/v1/runs/{run_d.pk}/score", {"stars": 5, "comment": "surprisingly good"}, format="json")
    assert response.status_code == 201, response.content
    summary = ScoreSummary.objects.get(run=run_d, scorer_name="human")
    assert summary.mean == 1.0 and summary.n == 1
    board = api.get(f"/api/v1/experiments/{scored_experiment.pk}/leaderboard").json()
    row = next(r for r in board["results"] if r["run_id"] == str(run_d.pk))
    assert row["scores"]["human"]["mean"] == 1.0
    assert api.post(f"/api/v1/runs/{run_d.pk}/score", {"stars": 9}, format="json").status_code == 400
    assert api.post(f"/api/v1/runs/{run_d.pk}/score", {"thumbs": "up", "item_id": "nope"},
                    format="json").json() == {"item_id": ["This run has no output for item 'nope'."]}
    assert other_api.post(f"/api/v1/runs/{run_d.pk}/score", {"thumbs": "up"}, format="json").status_code == 404


def test_embedding_scores_come_from_the_endpoint_once_and_from_the_cache_after(api, make_experiment, endpoint,
                                                                               enqueued, fake_llm):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}"}]
    config = {"scorers": [{"type": "embedding_similarity", "weight": 1,
                           "options": {"provider": "endpoint", "endpoint": str(endpoint.pk), "model": "fake-embed"}}]}
    experiment = make_experiment(stages=stage, n_items=2, space=[], scoring_config=config)
    start_and_drive(api, experiment)
    summary = ScoreSummary.objects.get(scorer_name="embedding_similarity")
    assert summary.n == 2 and summary.errored == 0 and 0 <= summary.mean <= 1
    assert fake_llm.stats["embeddings"] >= 1
    fake_llm.reset_stats()
    experiment_rescore(experiment_id=str(experiment.pk))
    assert fake_llm.stats["embeddings"] == 0 and fake_llm.stats["chat"] == 0
    assert ScoreSummary.objects.get(scorer_name="embedding_similarity").mean == summary.mean


def test_an_admins_python_scorer_runs_sandboxed_inside_a_sweep(admin_api, admin_user, endpoint, enqueued, settings):
    from apps.experiments.services import experiment_create
    from apps.projects.models import Project
    from apps.runs.tests.conftest import items

    settings.SCORERS_PYTHON_ENABLED = True
    endpoint.owner = admin_user
    endpoint.save()
    code = "def score(item, output, context):\n    return {'score': 0.25, 'reason': 'fixed'}\n"
    experiment = experiment_create(user=admin_user, project=Project.objects.create(owner=admin_user, name="p"), data={
        "name": "py", "sample_data": items(1),
        "pipeline_stages": [{"name": "a", "endpoint": str(endpoint.pk), "model": "fake-chat",
                             "prompt_template": "{{ input }}"}],
        "scoring_config": {"scorers": [{"type": "python", "options": {"code": code, "timeout_s": 5}}]},
    })
    start_and_drive(admin_api, experiment)
    score = Score.objects.get(scorer_name="python")
    assert score.value == 0.25 and score.metadata["reason"] == "fixed"


def test_a_non_admin_cannot_add_a_python_scorer(api, make_experiment, settings):
    settings.SCORERS_PYTHON_ENABLED = True
    experiment = make_experiment(n_items=1, space=[])
    config = {"scorers": [{"type": "python", "options": {"code": "def score(i, o, c):\n    return 1\n"}}]}
    response = api.patch(f"/api/v1/experiments/{experiment.pk}", {"scoring_config": config}, format="json")
    assert response.status_code == 400
    assert "scoring_config.scorers.0.type" in response.json()


def test_a_guided_sweep_plans_batches_from_scores_until_n_configurations(api, make_experiment, endpoint, enqueued):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}",
              "params": {"temperature": 0.5}}]
    config = {"scorers": [{"type": "length", "options": {"unit": "chars", "min": 1, "max": 30}}]}
    space = [{"path": "stages.0.params.temperature", "min": 0.0, "max": 1.0, "step": 0.1},
             {"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]}]
    experiment = make_experiment(stages=stage, n_items=1, space=space, scoring_config=config)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep",
                        {"type": "guided", "n": 7, "batch": 3, "seed": 1}, format="json")
    assert response.status_code == 202, response.content
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    assert sweep.runs_total == 3
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_total == 7
    runs = list(Run.objects.filter(sweep=sweep))
    assert len(runs) == 7 and len({r.config_hash for r in runs}) == 7
    assert all(r.weighted_score is not None for r in runs)
    assert Event.objects.filter(sweep=sweep, kind="sweep.batch_planned").count() == 2  # 3 + 3 + 1


def test_a_guided_sweep_without_scorers_is_refused(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "guided", "n": 5}, format="json")
    assert response.status_code == 400 and "type" in response.json()
