"""An agent sweep that asked for a person: the reason on the page, and "Approve and continue" for the owner."""

import json

import pytest

from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep
from apps.runs.services.agent_tools import review_request
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, url  # noqa: F401

REASON = "Two runs done: shall I try 0.5?"


def call(tool: str, reasoning: str, **args) -> str:
    return json.dumps({"tool": tool, "args": args, "reasoning": reasoning})


def t(value: float) -> dict:
    return {"stages.0.params.temperature": value}


SCRIPT = "Find the best temperature.\n" + "\n".join(f"REPLY {n}: {reply}" for n, reply in enumerate([
    call("run_batch", "try the extremes", configs=[t(0.1), t(0.7)]),
    call("request_human_review", "a person should agree", reason=REASON),
    call("run_batch", "approved: the middle", configs=[t(0.5)]),
    call("finish", "done", summary="Temperature 0.5 is the one to use."),
], start=1))


def approve(client, sweep, note: str = "", **headers):
    return client.post(f"/sweeps/{sweep.pk}/approve-continue/", {"note": note}, **headers)


@pytest.fixture
def waiting(owner, runnable, endpoint) -> Sweep:
    """An agent sweep paused by its agent's request for review (no driver runs in these tests)."""
    from apps.runs.services.sweeps import sweep_start

    sweep, _ = sweep_start(user=owner, experiment=runnable, kind="agent", n=3,
                           options={"endpoint": str(endpoint.pk), "model": "agent-x"})
    Sweep.objects.filter(pk=sweep.pk).update(status=Sweep.Status.RUNNING)
    review_request(sweep_id=sweep.pk, step={"n": 1, "tool": "request_human_review", "args": {"reason": REASON}},
                   reason=REASON)
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED
    return sweep


@pytest.mark.django_db
def test_the_owner_sees_the_reason_and_an_approve_form(client, owner, waiting):
    client.force_login(owner)
    html = client.get(url("experiment", waiting.experiment)).content.decode()
    assert "The agent is waiting for a person." in html and REASON in html
    assert f'action="/sweeps/{waiting.pk}/approve-continue/"' in html and ">Approve and continue</button>" in html


@pytest.mark.django_db
def test_a_guest_sees_the_reason_but_no_form_and_cannot_approve(client, guest_mode, waiting):
    html = client.get(url("experiment", waiting.experiment)).content.decode()
    assert REASON in html and "Approve and continue" not in html
    response = approve(client, waiting)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    waiting.refresh_from_db()
    assert waiting.status == Sweep.Status.PAUSED


@pytest.mark.django_db
def test_another_user_cannot_approve_it(client, other_user, waiting):
    client.force_login(other_user)
    assert approve(client, waiting).status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == Sweep.Status.PAUSED and not waiting.request["agent"]["pending"]["approval"]


@pytest.mark.django_db
def test_approving_resumes_the_sweep_with_the_note_for_the_agent(client, owner, waiting):
    client.force_login(owner)
    response = approve(client, waiting, "yes, try it", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="experiment-progress"')
    assert "Approved: the agent continues." in html and 'data-sweep-status="running"' in html
    assert "Approve and continue" not in html
    waiting.refresh_from_db()
    assert waiting.status == Sweep.Status.RUNNING
    assert waiting.request["agent"]["pending"]["approval"] == {"approved": True, "note": "yes, try it", "by": "owner"}


@pytest.mark.django_db
def test_approving_twice_says_it_is_not_waiting_and_a_long_note_is_refused(client, owner, waiting):
    client.force_login(owner)
    long = approve(client, waiting, "x" * 2001, headers={"HX-Request": "true"})
    assert long.status_code == 400 and "at most 2000 characters" in long.content.decode()
    assert "Approve and continue" in long.content.decode()  # the form stays, with its note
    waiting.refresh_from_db()
    assert waiting.status == Sweep.Status.PAUSED
    response = approve(client, waiting, follow=True)
    assert "Approved: the agent continues." in response.content.decode()
    again = approve(client, waiting, follow=True)
    assert "This sweep is not waiting for a person&#x27;s approval." in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_agent_started_on_the_page_pauses_for_review_and_finishes_once_approved_there(
        client, owner, runnable, endpoint, monkeypatch):
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
    client.force_login(owner)
    started = client.post(url("sweep_start", runnable), {
        "type": "agent", "n": "3", "agent_endpoint": str(endpoint.pk), "agent_model": "agent-script",
        "agent_goal": SCRIPT, "over_budget": "pause"})
    assert started.status_code == 302
    sweep = Sweep.objects.get(experiment=runnable)
    sweep_drive(str(sweep.pk))
    page = client.get(url("experiment", runnable)).content.decode()
    assert REASON in page and "Approve and continue" in page
    assert "Step 1 · <code>run_batch</code>" in page and "Step 2 · <code>request_human_review</code>" in page

    assert "Approved" in approve(client, sweep, "go on", follow=True).content.decode()
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    assert sorted(r.point["stages.0.params.temperature"] for r in Run.objects.filter(sweep=sweep)) == [0.1, 0.5, 0.7]
    approval = Event.objects.filter(sweep=sweep, kind="agent.step").order_by("created_at", "pk")[1].payload
    assert approval["tool"] == "request_human_review"
    page = client.get(url("experiment", runnable)).content.decode()
    assert "Temperature 0.5 is the one to use." in page and "Approve and continue" not in page
