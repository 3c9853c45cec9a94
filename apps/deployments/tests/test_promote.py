"""Promotion: an approved run's prompt, model and parameters become a version, optionally A/B tested at once."""

import pytest

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.deployments.models import AbTest, PromptVersion
from apps.deployments.services.promote import run_promote
from apps.deployments.tests.builders import make_deployment, make_run, make_version

ANSWER = {"name": "answer", "model": "fake-chat-large", "system_prompt": "You answer support tickets kindly.",
          "prompt_template": "{{ input }}", "params": {"temperature": 0.2, "max_tokens": 200}}
EXTRACT = {"name": "extract", "model": "fake-chat", "system_prompt": "You extract facts.",
           "prompt_template": "Extract from: {{ input }} (ticket {{ id }})", "params": {"temperature": 0.5}}
SUMMARIZE = {"name": "summarize", "model": "fake-chat", "prompt_template": "Summarize: {{ previous }}"}


def test_an_approved_single_stage_run_becomes_a_version_with_its_prompt_model_and_params(owner):
    deployment = make_deployment(owner)
    run = make_run(owner, stages=[ANSWER])
    version, ab_test = run_promote(run=run, deployment=deployment, actor="owner")
    assert ab_test is None
    assert (version.system_prompt, version.user_template) == (ANSWER["system_prompt"], "")
    assert (version.model, version.params) == ("fake-chat-large", {"temperature": 0.2, "max_tokens": 200})
    assert version.source_run == run and version.created_by == "owner"
    assert f"run {str(run.pk)[:8]}" in version.description and "'answer'" in version.description


def test_promoting_into_a_deployment_with_an_active_version_leaves_it_active_unless_asked(owner):
    deployment = make_deployment(owner)
    current = make_version(deployment, "Current prompt.")
    version, _ = run_promote(run=make_run(owner, stages=[ANSWER]), deployment=deployment)
    assert PromptVersion.objects.get(is_active=True) == current
    other = make_run(owner, stages=[{**ANSWER, "system_prompt": "Be blunt."}])
    promoted, _ = run_promote(run=other, deployment=deployment, activate=True)
    assert PromptVersion.objects.get(is_active=True) == promoted
    assert Event.objects.filter(kind=Kind.VERSION_ACTIVATED).latest("id").payload["reason"] == "promotion"


def test_promoting_the_same_run_twice_gives_the_same_version(owner):
    deployment = make_deployment(owner)
    run = make_run(owner, stages=[ANSWER])
    first, _ = run_promote(run=run, deployment=deployment)
    again, _ = run_promote(run=run, deployment=deployment)
    assert first == again and PromptVersion.objects.count() == 1


def test_a_multi_stage_run_needs_the_stage_and_notes_the_item_fields_its_template_reads(owner):
    deployment = make_deployment(owner)
    run = make_run(owner, stages=[EXTRACT, SUMMARIZE])
    with pytest.raises(InvalidInput) as excinfo:
        run_promote(run=run, deployment=deployment)
    assert set(excinfo.value.errors) == {"stage"} and "extract, summarize" in excinfo.value.errors["stage"][0]
    with pytest.raises(InvalidInput):
        run_promote(run=run, deployment=deployment, stage=5)
    version, _ = run_promote(run=run, deployment=deployment, stage="extract")
    assert version.user_template == EXTRACT["prompt_template"] and version.system_prompt == "You extract facts."
    assert "reads id" in version.description
    by_index, _ = run_promote(run=run, deployment=deployment, stage=1)
    assert by_index.user_template == "Summarize: {{ previous }}" and "previous" in by_index.description


def test_an_unapproved_run_is_refused(owner):
    deployment = make_deployment(owner)
    with pytest.raises(Conflict):
        run_promote(run=make_run(owner, stages=[ANSWER], approved=False), deployment=deployment)
    assert not PromptVersion.objects.exists()


def test_another_users_run_or_deployment_is_not_found(owner, other_user):
    mine, theirs = make_deployment(owner), make_deployment(other_user)
    with pytest.raises(NotFound):
        run_promote(run=make_run(other_user, stages=[ANSWER]), deployment=mine)
    with pytest.raises(NotFound):
        run_promote(run=make_run(owner, stages=[ANSWER]), deployment=theirs)
    assert not PromptVersion.objects.exists()


def test_promotion_can_start_an_ab_test_of_the_active_version_against_the_new_one(owner):
    deployment = make_deployment(owner)
    control = make_version(deployment, "Current prompt.")
    version, ab_test = run_promote(run=make_run(owner, stages=[ANSWER]), deployment=deployment,
                                   start_ab_test=True, split=(70, 30), ab_test_name="kinder answers", actor="owner")
    assert ab_test.status == AbTest.Status.RUNNING and ab_test.name == "kinder answers"
    arms = [(v.version_id, v.weight, v.position) for v in ab_test.variants.order_by("position")]
    assert arms == [(control.pk, 70, 0), (version.pk, 30, 1)]
    assert PromptVersion.objects.get(is_active=True) == control


def test_an_ab_test_needs_an_active_version_to_test_against_and_valid_weights(owner):
    deployment = make_deployment(owner)
    run = make_run(owner, stages=[ANSWER])
    with pytest.raises(InvalidInput) as excinfo:
        run_promote(run=run, deployment=deployment, start_ab_test=True)
    assert set(excinfo.value.errors) == {"start_ab_test"}
    make_version(deployment, "Current prompt.")
    with pytest.raises(InvalidInput) as excinfo:
        run_promote(run=run, deployment=deployment, start_ab_test=True, split=(100, 0))
    assert set(excinfo.value.errors) == {"split"}
    assert PromptVersion.objects.count() == 1 and not AbTest.objects.exists()


def test_a_failed_ab_test_start_creates_no_version(owner):
    deployment = make_deployment(owner)
    control = make_version(deployment, "Current prompt.")
    run_promote(run=make_run(owner, stages=[ANSWER]), deployment=deployment, start_ab_test=True)
    with pytest.raises(Conflict):  # one test runs per deployment
        run_promote(run=make_run(owner, stages=[{**ANSWER, "system_prompt": "Be blunt."}]), deployment=deployment,
                    start_ab_test=True)
    assert PromptVersion.objects.count() == 2 and AbTest.objects.count() == 1
    assert PromptVersion.objects.get(is_active=True) == control
