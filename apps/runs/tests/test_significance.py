"""New best only when significantly better, paired by item; otherwise tied with the best (and it says so)."""

from __future__ import annotations

import time

import pytest

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Score, Sweep
from apps.runs.services.scoring import best_decide, scores_store_many
from apps.runs.significance import item_scores, runs_compare

N_ITEMS = 30
SILENT = "REPLY: nothing to see"
ECHO = "REPLY: {{ input }}"  # matches 'topic 1' on every third item
ECHO_MORE = "REPLY: {{ input }} {{ reference }}"  # and 'ref 0' on one more item


def keyword_scoring(**significance) -> dict:
    return {"scorers": [{"type": "keyword", "name": "kw", "options": {
        "keywords": ["topic 1", "ref 0"], "mode": "any", "whole_word": True}}],
        **({"significance": significance} if significance else {})}


def sweep_of(api, experiment, template: str) -> Sweep:
    space = [{"path": "stages.0.prompt_template", "values": [template]}]
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"parameter_space": space}, format="json")
    assert response.status_code == 202, response.json()
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    return sweep


@pytest.fixture
def experiment(make_experiment, endpoint):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": SILENT,
              "params": {"temperature": 0}}]
    return make_experiment(stages=stage, n_items=N_ITEMS, space=[], scoring_config=keyword_scoring())


def verdicts(experiment) -> list[tuple[str, dict | None]]:
    return [(e.kind, e.payload.get("significance"))
            for e in Event.objects.filter(experiment=experiment, kind__in=[Kind.NEW_BEST, Kind.BEST_TIED])
            .order_by("created_at", "pk")]


@pytest.mark.django_db(transaction=True)
def test_a_clear_winner_is_a_new_best_and_a_one_item_gain_is_tied_with_it(api, experiment, enqueued):
    sweep_of(api, experiment, SILENT)
    winner = sweep_of(api, experiment, ECHO)
    sweep_of(api, experiment, ECHO_MORE)
    (first, none), (best, clear), (tied, noisy) = verdicts(experiment)
    assert (first, none) == (Kind.NEW_BEST, None)  # the first scored run: nothing to beat
    assert best == Kind.NEW_BEST and clear["test"] == "mcnemar_exact" and clear["p_value"] < 0.01
    assert (clear["n"], clear["b_better"], clear["a_better"]) == (N_ITEMS, 10, 0)
    assert tied == Kind.BEST_TIED and noisy["p_value"] == pytest.approx(0.5) and not noisy["significant"]
    tied_event = Event.objects.get(kind=Kind.BEST_TIED)
    assert tied_event.payload["previous_best"]["run_id"] == str(Run.objects.get(sweep=winner).pk)
    assert Sweep.objects.get(pk=winner.pk).request["significance"]["comparisons"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_rerun_of_the_best_configuration_is_never_a_new_best(api, experiment, enqueued):
    sweep_of(api, experiment, ECHO)
    sweep_of(api, experiment, "REPLY:  {{ input }}")  # other wording, same outputs
    assert [kind for kind, _ in verdicts(experiment)] == [Kind.NEW_BEST]


@pytest.mark.django_db(transaction=True)
def test_the_experiment_alpha_decides_what_is_significant(api, make_experiment, endpoint, enqueued):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": SILENT}]
    # 3 of 9 items discordant, all for the new run: one-sided p = 1/8, below 0.2 but not 0.05.
    lenient = make_experiment(stages=stage, n_items=9, space=[], scoring_config=keyword_scoring(alpha=0.2))
    sweep_of(api, lenient, SILENT)
    sweep_of(api, lenient, ECHO)
    assert [kind for kind, _ in verdicts(lenient)] == [Kind.NEW_BEST, Kind.NEW_BEST]
    strict = make_experiment(stages=stage, n_items=9, space=[], scoring_config=keyword_scoring())
    sweep_of(api, strict, SILENT)
    sweep_of(api, strict, ECHO)
    assert [kind for kind, _ in verdicts(strict)] == [Kind.NEW_BEST, Kind.BEST_TIED]
    assert verdicts(strict)[1][1]["p_value"] == pytest.approx(1 / 8)


# Direct scoring of stored runs: no LLM calls, exact per-item values.

def stored_run(experiment, sweep, values: list[float], *, repeats: int = 1) -> Run:
    run = Run.objects.create(experiment=experiment, sweep=sweep, config={}, config_hash=f"h{Run.objects.count()}",
                             status=Run.Status.COMPLETED)
    rows = [{"scorer_name": "kw", "item_id": f"i{i}", "repeat": r, "value": v, "error": "", "metadata": {}}
            for i, v in enumerate(values) for r in range(repeats)]
    scores_store_many(entries=[(str(run.pk), rows)], specs=list(experiment.spec.scoring))
    run.refresh_from_db()
    return run


@pytest.fixture
def sweep(experiment):
    return Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, status=Sweep.Status.RUNNING)


def decide(run, best, sweep):
    return best_decide(run_id=str(run.pk), weighted=run.weighted_score, experiment=run.experiment, sweep=sweep,
                       best=best, batch=[str(run.pk)])


@pytest.mark.django_db
def test_holm_makes_the_same_gain_tied_once_the_sweep_has_made_several_comparisons(experiment, sweep):
    # Each step wins 5 more of 60 items and loses none: one-sided p = 1/32, significant alone (m = 1),
    # not once it is one of two (Holm: 2 × 1/32 > 0.05).
    best = {"score": None, "run_id": None}
    seen = []
    for step in range(4):
        values = [1.0] * (5 * step) + [0.0] * (60 - 5 * step)
        seen.append(decide(stored_run(experiment, sweep, values), best, sweep).kind)
    assert seen == [Kind.NEW_BEST, Kind.NEW_BEST, Kind.BEST_TIED, Kind.BEST_TIED]
    state = Sweep.objects.get(pk=sweep.pk).request["significance"]
    assert state["comparisons"] == 3 and state["small_p"] == [pytest.approx(1 / 32)] * 3


@pytest.mark.django_db
def test_a_run_below_the_best_is_neither_compared_nor_counted(experiment, sweep):
    best_run = stored_run(experiment, sweep, [0.8] * 10)
    best = {"score": best_run.weighted_score, "run_id": None}  # as the driver knows it at start
    assert decide(stored_run(experiment, sweep, [0.5] * 10), best, sweep) is None
    assert "significance" not in Sweep.objects.get(pk=sweep.pk).request
    above = stored_run(experiment, sweep, [0.8] * 9 + [0.9])
    verdict = decide(above, best, sweep)
    assert verdict.kind == Kind.BEST_TIED
    assert verdict.payload["previous_best"] == {"run_id": str(best_run.pk), "weighted_score": pytest.approx(0.8)}
    assert best == {"score": above.weighted_score, "run_id": str(above.pk)}


@pytest.mark.django_db
def test_repeats_are_paired_by_item_not_by_repeat(experiment, sweep):
    a = stored_run(experiment, sweep, [0.2, 0.4, 0.6], repeats=3)
    b = stored_run(experiment, sweep, [0.3, 0.5, 0.7], repeats=3)
    scores = item_scores(run_ids=[a.pk, b.pk], specs=experiment.spec.scoring)
    assert scores[str(a.pk)]["i1"] == [pytest.approx(0.4)] * 3
    result = runs_compare(a=a.pk, b=b.pk, specs=experiment.spec.scoring)
    assert (result.n, result.repeats) == (3, 3) and result.mean_difference == pytest.approx(0.1)


@pytest.mark.django_db
def test_the_check_on_500_items_is_fast_and_reads_in_bounded_queries(experiment, sweep, django_assert_max_num_queries):
    import random
    rng = random.Random(1)
    a = stored_run(experiment, sweep, [rng.random() for _ in range(500)])
    b = stored_run(experiment, sweep, [min(1.0, v + 0.05) for v in
                                       Score.objects.filter(run=a).order_by("id").values_list("value", flat=True)])
    best = {"score": a.weighted_score, "run_id": str(a.pk)}
    started = time.perf_counter()
    with django_assert_max_num_queries(8):  # a constant: scores, sweep state, the event
        verdict = decide(b, best, sweep)
    assert time.perf_counter() - started < 0.5
    assert verdict.kind == Kind.NEW_BEST and verdict.payload["significance"]["n"] == 500


@pytest.mark.django_db
def test_the_leaderboard_marks_runs_a_paired_test_cannot_tell_from_the_leader(api, experiment, sweep):
    import random
    rng = random.Random(2)
    leader_values = [rng.uniform(0.3, 0.9) for _ in range(40)]
    leader = stored_run(experiment, sweep, leader_values)
    # Slightly but consistently worse on every item: intervals overlap, pairing tells them apart.
    worse = stored_run(experiment, sweep, [v - 0.02 for v in leader_values])
    # As good on average, better on some items and worse on others: indistinguishable.
    swings = [-0.03 if i % 2 else 0.03 for i in range(40)]
    swings[0] = 0.02
    noisy = stored_run(experiment, sweep, [v + swing for v, swing in zip(leader_values, swings, strict=True)])
    results = api.get(f"/api/v1/experiments/{experiment.pk}/leaderboard").json()["results"]
    rows = {row["run_id"]: row for row in results}
    assert results[0]["run_id"] == str(leader.pk) and not results[0]["tied_with_best"]
    assert rows[str(worse.pk)]["overlaps_leader"] and not rows[str(worse.pk)]["tied_with_best"]
    assert rows[str(worse.pk)]["best_p_value"] < 0.001
    assert rows[str(noisy.pk)]["overlaps_leader"] and rows[str(noisy.pk)]["tied_with_best"]
    assert rows[str(noisy.pk)]["best_p_value"] > 0.05
    second_page = api.get(f"/api/v1/experiments/{experiment.pk}/leaderboard?offset=1").json()["results"]
    assert {row["run_id"]: row["tied_with_best"] for row in second_page} == {
        str(worse.pk): False, str(noisy.pk): True}


@pytest.mark.django_db
def test_the_leaderboard_page_tells_a_paired_tie_from_a_paired_loss(client, owner, experiment, sweep):
    values = [0.3 + 0.6 * (i % 5) / 4 for i in range(40)]
    stored_run(experiment, sweep, values)
    worse = stored_run(experiment, sweep, [v - 0.02 for v in values])
    swings = [0.02 if i % 2 else -0.02 for i in range(40)]
    swings[1] = 0.01
    tied = stored_run(experiment, sweep, [v + s for v, s in zip(values, swings, strict=True)])
    client.force_login(owner)
    html = client.get(f"/experiments/{experiment.pk}/leaderboard/").content.decode()
    row_of = {run: html[html.index(f'id="run-row-{run.pk}"'):].split('id="run-row-')[1] for run in (worse, tied)}
    assert ">≈ #1</span>" in row_of[tied] and "&lt; #1</span>" not in row_of[tied]
    assert "&lt; #1</span>" in row_of[worse] and ">≈ #1</span>" not in row_of[worse]
