"""One vocabulary for runs: status sets, counts and totals, the final-output rule, cache lookups, visibility."""

import uuid
from decimal import Decimal

import pytest

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import ResponseCache, Run, Score, StageResult, Sweep
from apps.runs.outputs import final_outputs
from apps.runs.rescoring import experiment_rescore
from apps.runs.tests.conftest import two_stage

pytestmark = pytest.mark.django_db


def experiment_of(user) -> Experiment:
    project = Project.objects.create(owner=user, name=f"{user.username}'s project")
    return Experiment.objects.create(project=project, name="e")


def run_of(experiment, *, status=Run.Status.COMPLETED, approval="", sweep=None, config=None, **totals) -> Run:
    return Run.objects.create(experiment=experiment, sweep=sweep, config=config or {"stages": []},
                              config_hash=uuid.uuid4().hex, status=status, approval=approval, **totals)


def stage_row(run, item_id, index, name, text, error=""):
    return StageResult.objects.create(run=run, item_id=item_id, stage_index=index, stage_name=name,
                                      model_used="fake-chat", response_raw=text, error=error)


@pytest.fixture
def one_run_of_each_status(owner):
    experiment = experiment_of(owner)
    runs = {status: run_of(experiment, status=status, calls=2, cache_hits=1, tokens_in=10, tokens_out=5,
                           cost_estimate=Decimal("0.000100"))
            for status in Run.Status.values}
    runs["rejected"] = run_of(experiment, approval=Run.Approval.REJECTED, calls=2, tokens_in=10, tokens_out=5,
                              cost_estimate=Decimal("0.000100"))
    return experiment, runs


def statuses(qs) -> list[str]:
    return sorted(qs.values_list("status", flat=True))


def test_each_status_set_holds_the_runs_it_names(one_run_of_each_status):
    experiment, runs = one_run_of_each_status
    mine = Run.objects.filter(experiment=experiment)
    assert statuses(mine.terminal()) == ["cached", "cancelled", "completed", "completed", "failed"]
    assert statuses(mine.unfinished()) == ["pending", "running"]
    assert statuses(mine.finished()) == ["cached", "completed", "completed"]
    assert statuses(mine.scored()) == ["cached", "completed", "completed", "failed"]
    # The leaderboard ranks failed runs too (their successful items are scored), never rejected ones.
    assert set(mine.ranked()) == {runs["completed"], runs["cached"], runs["failed"]}


def test_terminal_and_unfinished_cover_every_status_once():
    assert set(Run.TERMINAL) | set(Run.UNFINISHED) == set(Run.Status.values)
    assert not set(Run.TERMINAL) & set(Run.UNFINISHED)


def test_counts_by_status_names_every_status_even_when_none_has_it(one_run_of_each_status, other_user):
    experiment, _ = one_run_of_each_status
    assert Run.objects.filter(experiment=experiment).counts_by_status() == {
        "pending": 1, "running": 1, "completed": 2, "failed": 1, "cached": 1, "cancelled": 1,
    }
    assert Run.objects.filter(experiment=experiment_of(other_user)).counts_by_status() == dict.fromkeys(
        Run.Status.values, 0)
    assert Sweep.objects.none().counts_by_status() == dict.fromkeys(Sweep.Status.values, 0)


def test_totals_sum_every_run_in_one_shape_and_are_zero_for_none(one_run_of_each_status, other_user):
    experiment, _ = one_run_of_each_status
    assert Run.objects.filter(experiment=experiment).totals() == {
        "runs": 7, "terminal": 5, "calls": 14, "cache_hits": 6, "tokens_in": 70, "tokens_out": 35,
        "cost": Decimal("0.000700"),
    }
    assert Run.objects.filter(experiment=experiment_of(other_user)).totals() == {
        "runs": 0, "terminal": 0, "calls": 0, "cache_hits": 0, "tokens_in": 0, "tokens_out": 0, "cost": 0,
    }


def test_the_final_output_is_the_last_stage_of_an_item_whose_every_stage_succeeded():
    rows = [
        ("ok", 0, 0, "extract", "facts", ""), ("ok", 0, 1, "summarize", "summary", ""),
        ("broken", 0, 0, "extract", "", "stage 'extract': HTTP 500"),
        ("cut short", 0, 0, "extract", "facts only", ""),
        ("ok", 1, 0, "extract", "facts again", ""), ("ok", 1, 1, "summarize", "", "stage 'summarize': timeout"),
    ]
    [only] = final_outputs(rows, stages=2)
    assert (only.item_id, only.repeat, only.output) == ("ok", 0, "summary")
    assert only.stage_outputs == {"extract": "facts", "summarize": "summary"}


@pytest.mark.django_db(transaction=True)
def test_rescoring_scores_exactly_the_final_outputs_compare_shows(api, make_experiment, endpoint):
    # A run whose stored results stop before its last stage has no final output: compare showed
    # none, but re-scoring used to score the deepest stage it found as if it were the last.
    experiment = make_experiment(n_items=1, scoring_config={"scorers": [
        {"type": "keyword", "weight": 1, "options": {"keywords": ["answer"]}}]})
    config = {"stages": two_stage(endpoint)}
    full, partial = run_of(experiment, config=config), run_of(experiment, config=config)
    stage_row(full, "i0", 0, "extract", "facts")
    stage_row(full, "i0", 1, "summarize", "the answer")
    stage_row(partial, "i0", 0, "extract", "an answer-looking first stage")

    experiment_rescore(experiment_id=str(experiment.pk))

    compared = api.get(f"/api/v1/runs/compare?a={full.pk}&b={partial.pk}").json()["items"]
    assert [(item["item_id"], item["a"], item["b"]) for item in compared] == [("i0", "the answer", None)]
    assert list(Score.objects.filter(run=full).values_list("item_id", "value")) == [("i0", 1.0)]
    assert not Score.objects.filter(run=partial).exists()


def test_the_cache_lookup_reads_across_chunks_and_only_the_owners_entries(owner, other_user,
                                                                          django_assert_num_queries):
    keys = [f"{n:064x}" for n in range(7)]
    for n, key in enumerate(keys[:5]):
        ResponseCache.objects.create(key=key, owner=owner, provider="openai", base_url="http://llm", model="m",
                                     response=f"text {n}", tokens_in=n)
    ResponseCache.objects.create(key=keys[5], owner=other_user, provider="openai", base_url="http://llm",
                                 model="m", response="someone else's")
    with django_assert_num_queries(4):  # 7 distinct keys, 2 per statement
        found = ResponseCache.objects.lookup(owner_id=owner.pk, keys=[*keys, *keys[:3]],
                                             fields=("response", "tokens_in"), chunk_size=2)
    assert found == {key: (f"text {n}", n) for n, key in enumerate(keys[:5])}
    assert ResponseCache.objects.lookup(owner_id=owner.pk, keys=keys) == {
        key: (f"text {n}",) for n, key in enumerate(keys[:5])}


@pytest.fixture
def owned_rows(owner, fake_llm):
    experiment = experiment_of(owner)
    sweep = Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID)
    run = run_of(experiment, sweep=sweep)
    endpoint = Endpoint.objects.create(owner=owner, label="mine", base_url=fake_llm.base_url)
    return {"project": experiment.project, "experiment": experiment, "sweep": sweep, "run": run,
            "endpoint": endpoint}


@pytest.fixture
def viewer(request, api, other_api, anon_api):
    """A client for each kind of reader; "guest" is anonymous with guest access on."""
    if request.param == "guest":
        request.getfixturevalue("guest_mode")
    return {"owner": api, "other": other_api, "guest": anon_api, "anonymous": anon_api}[request.param]


SEES_ALL = {"owner": True, "other": False, "guest": True, "anonymous": None}  # None: refused outright
OWNER_ONLY = {"owner": True, "other": False, "guest": None, "anonymous": None}


@pytest.mark.parametrize("viewer", list(SEES_ALL), indirect=True)
def test_a_project_list_shows_own_projects_and_a_guest_every_project(viewer, owned_rows, request):
    response = viewer.get("/api/v1/projects")
    expected = SEES_ALL[request.node.callspec.params["viewer"]]
    if expected is None:
        assert response.status_code == 401
    else:
        assert [p["id"] for p in response.json()["results"]] == ([str(owned_rows["project"].pk)] if expected else [])


@pytest.mark.parametrize("viewer", list(SEES_ALL), indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/runs/{run}", "/api/v1/sweeps/{sweep}",
                                  "/api/v1/experiments/{experiment}/runs"])
def test_runs_and_sweeps_are_read_by_their_owner_and_guests_only(viewer, path, owned_rows, request):
    response = viewer.get(path.format(**{name: row.pk for name, row in owned_rows.items()}))
    expected = SEES_ALL[request.node.callspec.params["viewer"]]
    assert response.status_code == {True: 200, False: 404, None: 401}[expected]


@pytest.mark.parametrize("viewer", list(OWNER_ONLY), indirect=True)
def test_endpoints_are_listed_to_their_owner_and_never_to_a_guest(viewer, owned_rows, request):
    response = viewer.get("/api/v1/endpoints")
    expected = OWNER_ONLY[request.node.callspec.params["viewer"]]
    if expected is None:
        assert response.status_code in (401, 403)
    else:
        assert [e["id"] for e in response.json()["results"]] == ([str(owned_rows["endpoint"].pk)] if expected else [])
