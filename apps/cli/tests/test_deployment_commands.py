"""`deployments`, `versions`, `promote` and `activate` against the real API (in process, on the test database)."""

from __future__ import annotations

import json

import pytest

from apps.cli.tests.inprocess import cli_for
from apps.deployments.models import AbTest, PromptVersion
from apps.deployments.tests.builders import make_deployment, make_run, make_version

pytestmark = pytest.mark.django_db

ANSWER = {"name": "answer", "model": "fake-chat", "system_prompt": "You answer tickets kindly.",
          "prompt_template": "{{ input }}", "params": {"temperature": 0.2}}
EXTRACT = {"name": "extract", "model": "fake-chat", "prompt_template": "Extract: {{ input }}"}


@pytest.fixture
def cli(owner, monkeypatch, capsys):
    return cli_for(owner, monkeypatch, capsys)


def active_number(deployment) -> int | None:
    return PromptVersion.objects.filter(deployment=deployment, is_active=True).values_list("number", flat=True).first()


def test_deployments_shows_each_with_its_active_version_and_running_ab_test_as_a_table_and_as_json(owner, cli):
    quiet = make_deployment(owner, name="quiet-bot")
    tested = make_deployment(owner, name="support-bot")
    make_version(tested, "Current prompt.")
    run = make_run(owner, stages=[ANSWER])

    assert cli("promote", str(run.pk), "--deployment", "support-bot", "--ab-test", "--split", "30")[0] == 0
    code, out, _ = cli("deployments")

    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["deployment", "id", "model", "active", "running", "A/B", "test"]
    assert lines[2].split() == ["quiet-bot", str(quiet.pk), "fake-chat", "—", "—"]
    assert lines[3].startswith(f"support-bot  {tested.pk}  fake-chat  v1 ")
    assert lines[3].endswith("v1 vs v2 (v1 70% · v2 30%)")

    code, out, _ = cli("deployments", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["quiet-bot"]["active_version"] is None and rows["quiet-bot"]["running_ab_test"] is None
    assert rows["support-bot"]["active_version"]["number"] == 1
    assert rows["support-bot"]["running_ab_test"]["traffic_split"] == [70, 30]


def test_versions_lists_newest_first_marking_the_active_one_and_its_source_run(owner, cli):
    deployment = make_deployment(owner)
    make_version(deployment, "Current prompt.", created_by="owner")
    run = make_run(owner, stages=[ANSWER])
    assert cli("promote", str(run.pk), "--deployment", deployment.name)[0] == 0

    code, out, _ = cli("versions", "support-bot")

    assert code == 0
    header, _, newest, oldest = out.splitlines()
    assert header.split()[:4] == ["version", "active", "source", "run"]
    assert newest.split()[:3] == ["v2", str(run.pk), "owner"] and "You answer tickets kindly." in newest
    assert oldest.split()[:4] == ["v1", "*", "—", "owner"] and "Current prompt." in oldest
    versions = json.loads(cli("versions", str(deployment.pk), "--json")[1])
    assert [(v["number"], v["is_active"], v["source_run"]) for v in versions] == [
        (2, False, str(run.pk)), (1, True, None)]


def test_a_promoted_version_waits_until_activate_switches_to_it_by_number_or_id(owner, cli):
    deployment = make_deployment(owner)
    first = make_version(deployment, "Current prompt.")
    run = make_run(owner, stages=[ANSWER])

    code, out, _ = cli("promote", str(run.pk), "--deployment", "support-bot")
    assert code == 0
    assert out.strip() == (f"support-bot version 2: created from run {str(run.pk)[:8]}; waiting (version 1 stays "
                           "active; `promptlooper activate support-bot 2` switches)")
    assert active_number(deployment) == 1

    code, out, _ = cli("activate", "support-bot", "2")
    assert (code, out.strip()) == (0, "support-bot: version 2 is active (was version 1); the gateway serves it from "
                                      "its next request")
    assert active_number(deployment) == 2
    assert cli("activate", "support-bot", "v2")[1].strip() == "support-bot: version 2 is already active"
    assert cli("activate", str(deployment.pk), str(first.pk))[0] == 0
    assert active_number(deployment) == 1


def test_promote_with_activate_serves_the_new_version_and_again_finds_the_same_one(owner, cli):
    deployment = make_deployment(owner)
    make_version(deployment, "Current prompt.")
    run = make_run(owner, stages=[EXTRACT, ANSWER])

    code, out, _ = cli("promote", str(run.pk), "--deployment", "support-bot", "--stage", "1", "--activate")
    assert code == 0 and out.strip() == (f"support-bot version 2: created from run {str(run.pk)[:8]}; active; "
                                         "the gateway serves it from its next request")
    assert active_number(deployment) == 2
    assert PromptVersion.objects.get(number=2).system_prompt == ANSWER["system_prompt"]

    code, out, _ = cli("promote", str(run.pk), "--deployment", "support-bot", "--stage", "answer")
    assert code == 0 and "version 2: the same prompt as this run's, already there; active" in out
    assert PromptVersion.objects.count() == 2


def test_promote_with_ab_test_starts_a_test_of_the_active_version_against_the_new_one(owner, cli):
    deployment = make_deployment(owner)
    make_version(deployment, "Current prompt.")
    run = make_run(owner, stages=[ANSWER])

    code, out, _ = cli("promote", str(run.pk), "--deployment", "support-bot", "--ab-test", "--ab-test-name", "tone")
    ab_test = AbTest.objects.get()
    assert code == 0
    assert out.strip().endswith(f"A/B test 'tone (v1 50% · v2 50%)' started (id {ab_test.pk})")
    assert ab_test.status == AbTest.Status.RUNNING and ab_test.name == "tone"
    assert [(v.version.number, v.weight) for v in ab_test.variants.order_by("position")] == [(1, 50), (2, 50)]
    assert active_number(deployment) == 1


def test_a_refused_promotion_prints_the_servers_errors_by_field_and_exits_2_changing_nothing(owner, cli):
    deployment = make_deployment(owner)
    make_version(deployment, ANSWER["system_prompt"], model="fake-chat", params={"temperature": 0.2})

    code, _, err = cli("promote", str(make_run(owner, stages=[EXTRACT, ANSWER]).pk), "--deployment", "support-bot")
    assert code == 2
    assert "400 invalid request\n  stage: This run has 2 stages; choose the one to promote: extract, answer." in err

    code, _, err = cli("promote", str(make_run(owner, stages=[ANSWER]).pk), "--deployment", "support-bot",
                       "--ab-test")
    assert code == 2 and "\n  start_ab_test: The run's prompt is the active version already." in err

    code, _, err = cli("promote", str(make_run(owner, stages=[ANSWER], approved=False).pk),
                       "--deployment", "support-bot")
    assert code == 2 and "409 Only an approved run can be promoted: approve it first." in err
    assert "Traceback" not in err
    assert PromptVersion.objects.count() == 1 and not AbTest.objects.exists()


def test_another_users_deployment_run_or_version_and_unknown_names_are_not_found_exit_3(
        owner, other_user, cli):
    mine = make_deployment(owner)
    make_version(mine, "Current prompt.")
    theirs = make_deployment(other_user, name="their-bot")
    their_version = make_version(theirs, "Theirs.")
    their_run = make_run(other_user, stages=[ANSWER])

    answers = [
        cli("versions", "nowhere"),
        cli("versions", str(theirs.pk)),
        cli("promote", str(their_run.pk), "--deployment", "support-bot"),
        cli("promote", str(make_run(owner, stages=[ANSWER]).pk), "--deployment", str(theirs.pk)),
        cli("activate", "support-bot", "7"),
        cli("activate", "support-bot", str(their_version.pk)),
    ]

    assert [code for code, _, _ in answers] == [3] * 6
    assert "No deployment named 'nowhere' (yours: support-bot)." in answers[0][2]
    assert f"POST /runs/{their_run.pk}/promote: 404 " in answers[2][2]
    assert "No version 7 in 'support-bot'." in answers[4][2]
    assert active_number(mine) == 1 and active_number(theirs) == 1 and PromptVersion.objects.count() == 2


def test_arguments_that_cannot_go_together_are_refused_before_anything_is_sent(owner, cli):
    make_deployment(owner)
    run = str(make_run(owner, stages=[ANSWER]).pk)
    with pytest.raises(SystemExit) as both:
        cli("promote", run, "--deployment", "support-bot", "--activate", "--ab-test")
    with pytest.raises(SystemExit) as split:
        cli("promote", run, "--deployment", "support-bot", "--ab-test", "--split", "100")
    assert both.value.code == 2 and split.value.code == 2
    assert cli("promote", run, "--deployment", "support-bot", "--split", "30")[:2] == (2, "")
    assert cli("promote", run[:8], "--deployment", "support-bot")[0] == 2
    assert cli("activate", "support-bot", "latest")[0] == 2
    assert not PromptVersion.objects.exists()
