"""GET /api/v1/sweeps/active: the reader's unfinished sweeps across experiments (what `promptlooper status` reads)."""

import pytest

from apps.projects.models import Project
from apps.runs.models import Sweep

pytestmark = pytest.mark.django_db
URL = "/api/v1/sweeps/active"


def sweep_of(user, status, *, name="exp"):
    from apps.experiments.models import Experiment

    project, _ = Project.objects.get_or_create(owner=user, name="Sweeps")
    experiment, _ = Experiment.objects.get_or_create(project=project, name=name)
    return Sweep.objects.create(experiment=experiment, kind="grid", status=status, created_by=user, runs_total=4,
                                runs_done=1)


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_it_lists_the_owners_unfinished_sweeps_with_their_experiment_names(api, owner):
    running, paused, pending = (sweep_of(owner, s, name=s) for s in ("running", "paused", "pending"))
    sweep_of(owner, "completed", name="done")
    sweep_of(owner, "stopped", name="halted")

    response = api.get(URL)

    assert ids(response) == {str(running.pk), str(paused.pk), str(pending.pk)}
    row = next(r for r in response.json()["results"] if r["id"] == str(paused.pk))
    assert (row["project_name"], row["experiment_name"], row["status"], row["runs_done"], row["runs_total"]) == (
        "Sweeps", "paused", "paused", 1, 4)


def test_it_narrows_to_the_statuses_asked_for_comma_separated_or_repeated(api, owner):
    running, paused, _ = (sweep_of(owner, s, name=s) for s in ("running", "paused", "pending"))
    assert ids(api.get(URL, {"status": "running,paused"})) == {str(running.pk), str(paused.pk)}
    assert ids(api.get(f"{URL}?status=paused&status=running")) == {str(running.pk), str(paused.pk)}
    assert ids(api.get(URL, {"status": "paused"})) == {str(paused.pk)}


def test_a_finished_or_unknown_status_is_refused_by_name(api, owner):
    response = api.get(URL, {"status": "running,completed"})
    assert response.status_code == 400
    assert "completed" in response.json()["status"][0]


def test_it_validates_ownership_another_users_sweeps_are_not_listed(api, other_api, owner, other_user):
    mine = sweep_of(owner, "running")
    theirs = sweep_of(other_user, "running")
    assert ids(api.get(URL)) == {str(mine.pk)}
    assert ids(other_api.get(URL)) == {str(theirs.pk)}


def test_it_is_paginated(api, owner):
    for n in range(3):
        sweep_of(owner, "running", name=f"e{n}")
    page = api.get(URL, {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_a_guest_sees_the_unfinished_sweeps_without_endpoint_ids(anon_api, owner, guest_mode):
    sweep = sweep_of(owner, "running")
    Sweep.objects.filter(pk=sweep.pk).update(parameter_space=[{"path": "stages.0.endpoint", "values": ["x"]}])
    rows = anon_api.get(URL).json()["results"]
    assert [r["id"] for r in rows] == [str(sweep.pk)]
    assert rows[0]["parameter_space"][0]["values"] == [None]


def test_without_guest_access_anonymous_is_refused(anon_api, owner):
    sweep_of(owner, "running")
    assert anon_api.get(URL).status_code in (401, 403)
