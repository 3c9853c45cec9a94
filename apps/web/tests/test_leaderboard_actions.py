"""Approve, reject and fork from the leaderboard: the same services as the REST API, refused to others."""

import json

import pytest
from django.urls import reverse

from apps.activity.models import Event
from apps.experiments.models import Experiment
from apps.runs.models import Run
from apps.web.tests.board_builders import TEMPERATURE, scored_experiment, scored_run
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


@pytest.fixture
def run(experiment):
    scored_run(experiment, 0.9)
    return scored_run(experiment, 0.6)


def test_approving_with_htmx_returns_the_row_marked_approved(client, owner, run):
    client.force_login(owner)
    response = htmx(client, reverse("web:run_approve", args=[run.pk]), method="post", target=f"run-row-{run.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div role="row" class="lb-row lb-approved" id="run-row-{run.pk}"')
    assert "#2" in html and "Approved</span>" in html
    run.refresh_from_db()
    assert run.approval == Run.Approval.APPROVED
    assert Event.objects.filter(kind="run.approved", run_id=run.pk).exists()


def test_rejecting_with_htmx_removes_the_row(client, owner, run):
    client.force_login(owner)
    response = htmx(client, reverse("web:run_reject", args=[run.pk]), method="post", target=f"run-row-{run.pk}")
    assert response.status_code == 200 and response.content == b""
    run.refresh_from_db()
    assert run.approval == Run.Approval.REJECTED


def test_without_javascript_approving_returns_to_the_live_view_with_a_message(client, owner, run):
    client.force_login(owner)
    response = client.post(reverse("web:run_approve", args=[run.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("web:experiment", args=[run.experiment_id])


def test_another_user_cannot_approve_or_reject(client, other_user, run):
    client.force_login(other_user)
    for name in ("web:run_approve", "web:run_reject"):
        assert client.post(reverse(name, args=[run.pk])).status_code == 404
    run.refresh_from_db()
    assert run.approval == ""


def test_a_guests_approval_fork_and_approval_get_are_refused(client, guest_mode, run):
    for name in ("web:run_approve", "web:run_reject", "web:run_fork"):
        response = client.post(reverse(name, args=[run.pk]))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert client.get(reverse("web:run_fork", args=[run.pk])).status_code == 302
    run.refresh_from_db()
    assert run.approval == "" and Experiment.objects.count() == 1


def test_approval_is_post_only(client, owner, run):
    client.force_login(owner)
    assert client.get(reverse("web:run_approve", args=[run.pk])).status_code == 405


def test_the_fork_page_explains_forking_and_prefills_the_space(client, owner, run):
    client.force_login(owner)
    html = client.get(reverse("web:run_fork", args=[run.pk])).content.decode()
    assert "What forking does" in html and "new experiment" in html
    assert 'value="Tone check (fork)"' in html and "stages.0.params.temperature" in html
    assert 'for="id_parameter_space"' in html and 'for="id_name"' in html


def test_forking_creates_the_experiment_with_the_given_space_and_opens_its_live_view(client, owner, run):
    client.force_login(owner)
    space = [{"path": TEMPERATURE, "values": [0.2, 0.3]}]
    response = client.post(reverse("web:run_fork", args=[run.pk]),
                           {"name": "Cooler", "parameter_space": json.dumps(space)})
    fork = Experiment.objects.get(name="Cooler")
    assert response.status_code == 302 and response["Location"] == reverse("web:experiment", args=[fork.pk])
    assert fork.parameter_space[0]["path"] == TEMPERATURE and fork.parameter_space[0]["values"] == [0.2, 0.3]
    assert fork.project_id == run.experiment.project_id


def test_a_bad_space_is_shown_next_to_the_field_and_nothing_is_created(client, owner, run):
    client.force_login(owner)
    url = reverse("web:run_fork", args=[run.pk])
    bad_axis = [{"path": "stages.9.model", "values": ["m"]}]
    response = client.post(url, {"name": "X", "parameter_space": json.dumps(bad_axis)})
    assert response.status_code == 400
    assert response.context["form"].errors["parameter_space"]
    assert 'id="id_parameter_space"' in response.content.decode() and 'class="errors"' in response.content.decode()
    not_json = client.post(url, {"name": "X", "parameter_space": "[{"})
    assert not_json.status_code == 400 and "Not valid JSON" in not_json.content.decode()
    assert Experiment.objects.count() == 1


def test_another_users_run_cannot_be_forked(client, other_user, run):
    client.force_login(other_user)
    assert client.get(reverse("web:run_fork", args=[run.pk])).status_code == 404
    assert client.post(reverse("web:run_fork", args=[run.pk]), {"parameter_space": "[]"}).status_code == 404


def test_clearing_an_approval_with_htmx_returns_the_row_with_no_decision(client, owner, run):
    client.force_login(owner)
    htmx(client, reverse("web:run_approve", args=[run.pk]), method="post")
    response = htmx(client, reverse("web:run_clear_approval", args=[run.pk]), method="post",
                    target=f"run-row-{run.pk}")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div role="row" class="lb-row" id="run-row-{run.pk}"')
    assert "Approved</span>" not in html and ">Approve<" in html and "Clear approval" not in html
    run.refresh_from_db()
    assert run.approval == Run.Approval.NONE
    assert Event.objects.filter(kind="run.approval_cleared", run_id=run.pk).exists()


def test_an_approved_row_offers_to_clear_the_approval_instead_of_approving_again(client, owner, run):
    client.force_login(owner)
    html = htmx(client, reverse("web:run_approve", args=[run.pk]), method="post").content.decode()
    assert f'hx-post="{reverse("web:run_clear_approval", args=[run.pk])}"' in html and ">Approve<" not in html
    assert "Clear the approval of run #2? It goes back to no decision." in html


def test_a_rejected_run_is_cleared_from_its_page_and_returns_to_the_leaderboard(client, owner, run):
    client.force_login(owner)
    client.post(reverse("web:run_reject", args=[run.pk]))
    board = reverse("web:experiment_leaderboard", args=[run.experiment_id])
    assert f'id="run-row-{run.pk}"' not in client.get(board).content.decode()
    page = client.get(reverse("web:run", args=[run.pk])).content.decode()
    assert f'action="{reverse("web:run_clear_approval", args=[run.pk])}"' in page
    response = client.post(reverse("web:run_clear_approval", args=[run.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:run", args=[run.pk])
    assert f"Run {str(run.pk)[:8]} back to no decision." in response.content.decode()
    assert "<dt>Approval</dt><dd>none</dd>" in response.content.decode()
    assert f'id="run-row-{run.pk}"' in client.get(board).content.decode()


def test_another_user_or_a_guest_cannot_clear_an_approval(client, other_user, guest_mode, run):
    Run.objects.filter(pk=run.pk).update(approval=Run.Approval.APPROVED)
    response = client.post(reverse("web:run_clear_approval", args=[run.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    client.force_login(other_user)
    assert client.post(reverse("web:run_clear_approval", args=[run.pk])).status_code == 404
    run.refresh_from_db()
    assert run.approval == Run.Approval.APPROVED


def test_clearing_a_rejection_pushes_the_run_back_onto_open_leaderboards(owner, run):
    from apps.live.groups import targets_for
    from apps.live.pushes import push_build
    from apps.live.rows import rows_forget
    from apps.runs.services.runs import run_set_approval

    def pushed_rows() -> str:
        event = Event.objects.filter(run_id=run.pk).latest("pk")
        [target] = [t for t in targets_for([event], guests=False) if t.scope == "experiment"]
        return push_build(target, [event])["html"]["owner"]

    rows_forget()
    run_set_approval(run=run, approval=Run.Approval.REJECTED)
    assert f'id="run-row-{run.pk}"' not in pushed_rows()
    run_set_approval(run=run, approval=Run.Approval.NONE)
    assert f'id="run-row-{run.pk}"' in pushed_rows()
    rows_forget()
