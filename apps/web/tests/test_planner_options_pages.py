"""The start panel's sweep types and their own options: every planner, its fields, errors next to them, budgets."""

import pytest

from apps.endpoints.models import Endpoint
from apps.engine.planners import PLANNERS
from apps.runs.models import Sweep
from apps.web.tests.builders import htmx
from apps.web.tests.html_tree import parse
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db


def start(client, experiment, **data):
    return client.post(url("sweep_start", experiment), {"over_budget": "pause", **data})


def before(html: str, *parts: str) -> bool:
    """Whether the parts appear in this order in the page."""
    positions = [html.index(part) for part in parts]
    return positions == sorted(positions)


def test_the_type_select_offers_every_planner_and_each_planners_options_in_its_fieldset(client, owner, runnable):
    client.force_login(owner)
    html = client.get(url("experiment", runnable)).content.decode()
    for kind in PLANNERS:
        assert f'<option value="{kind}"' in html
    for kind, fields in {"tpe": ["n_startup_trials"], "halving": ["eta", "min_items"],
                         "prompt_search": ["endpoint", "model", "axis", "k", "rounds", "patience"],
                         "agent": ["endpoint", "model", "goal", "max_steps", "batch_max",
                                   "approve_above_tokens"]}.items():
        fieldset = html[html.index(f'data-planner="{kind}"'):]
        fieldset = fieldset[:fieldset.index("</fieldset>")]
        for name in fields:
            assert f'<label for="id_{kind}_{name}">' in fieldset, (kind, name)
    # Without JavaScript every fieldset shows; static/js/live.js hides the ones of other types.
    assert "hidden" not in html[html.index('data-planner="tpe"'):html.index("</fieldset>")]
    assert "js/live.js" in html


def test_the_endpoint_selects_list_the_owners_endpoints_and_the_axis_select_the_pipelines_prompts(
        client, owner, other_user, runnable, endpoint):
    Endpoint.objects.create(owner=other_user, label="not yours", base_url="http://127.0.0.1:9")
    client.force_login(owner)
    page = parse(client.get(url("experiment", runnable)).content.decode())

    def options(name: str) -> list:
        select = next(e for e in page.iter("select") if e.get("name") == name)
        return [(o.get("value"), o.text()) for o in select.iter("option")]

    for name in ("prompt_search_endpoint", "agent_endpoint"):
        assert options(name) == [("", "Choose an endpoint"), (str(endpoint.pk), "fake")]
    axes = [value for value, _ in options("prompt_search_axis")]
    assert axes == ["stages.0.system_prompt", "stages.0.prompt_template"]


def test_a_tpe_sweep_starts_with_its_option_as_rest_would_store_it(client, owner, runnable):
    client.force_login(owner)
    response = start(client, runnable, type="tpe", n="4", batch="2", seed="3", tpe_n_startup_trials="2",
                     halving_eta="", agent_goal="")
    assert response.status_code == 302
    sweep = Sweep.objects.get(experiment=runnable)
    assert sweep.kind == "tpe" and sweep.request["options"] == {"n_startup_trials": 2}
    assert sweep.runs_total == 2


def test_a_bad_option_is_shown_next_to_its_own_field_and_nothing_starts(client, owner, runnable):
    client.force_login(owner)
    response = start(client, runnable, type="halving", halving_eta="1", halving_min_items="2")
    assert response.status_code == 400
    html = response.content.decode()
    assert before(html, 'for="id_halving_eta"', "eta must be a whole number from 2 to 100",
                  'for="id_halving_min_items"')
    assert 'value="1"' in html[html.index('id="id_halving_eta"') - 100:html.index('id="id_halving_eta"') + 100]
    assert not Sweep.objects.exists()


def test_a_prompt_search_without_a_proposer_endpoint_says_so_at_the_endpoint(client, owner, runnable):
    client.force_login(owner)
    response = start(client, runnable, type="prompt_search", prompt_search_model="proposer-demo")
    assert response.status_code == 400
    errors = response.context["sweep_form"].errors
    assert errors["prompt_search_endpoint"] == ["options.proposer.endpoint must be a non-empty string."]
    html = response.content.decode()
    assert before(html, 'for="id_prompt_search_endpoint"', "options.proposer.endpoint must be",
                  'for="id_prompt_search_model"')


def test_a_prompt_search_starts_with_its_proposer_axis_and_rounds(client, owner, runnable, endpoint):
    client.force_login(owner)
    response = start(client, runnable, type="prompt_search", prompt_search_endpoint=str(endpoint.pk),
                     prompt_search_model="proposer-demo", prompt_search_axis="stages.0.prompt_template",
                     prompt_search_k="2", prompt_search_rounds="3", prompt_search_patience="1")
    assert response.status_code == 302, response.context["sweep_form"].errors
    options = Sweep.objects.get(experiment=runnable).request["options"]
    assert options == {"proposer": {"endpoint": str(endpoint.pk), "model": "proposer-demo"},
                       "axis": "stages.0.prompt_template", "k": 2, "rounds": 3, "patience": 1}


def test_an_endpoint_that_is_not_the_owners_is_refused_at_the_endpoint_field(client, owner, other_user, runnable):
    theirs = Endpoint.objects.create(owner=other_user, label="theirs", base_url="http://127.0.0.1:9")
    client.force_login(owner)
    response = start(client, runnable, type="agent", n="3", agent_endpoint=str(theirs.pk), agent_model="m")
    assert response.status_code == 400
    assert "Select a valid choice" in response.context["sweep_form"].errors["agent_endpoint"][0]
    assert not Sweep.objects.exists()


def test_an_agent_sweep_starts_with_its_llm_goal_and_approval_threshold(client, owner, runnable, endpoint):
    client.force_login(owner)
    response = start(client, runnable, type="agent", n="3", agent_endpoint=str(endpoint.pk), agent_model="agent-x",
                     agent_goal="Find the calmest tone.", agent_max_steps="5", agent_batch_max="2",
                     agent_approve_above_tokens="500")
    assert response.status_code == 302, response.context["sweep_form"].errors
    options = Sweep.objects.get(experiment=runnable).request["options"]
    assert options == {"endpoint": str(endpoint.pk), "model": "agent-x", "goal": "Find the calmest tone.",
                       "max_steps": 5, "batch_max": 2, "approve_above_tokens": 500}


def test_an_agent_option_out_of_bounds_lands_on_its_field(client, owner, runnable, endpoint):
    client.force_login(owner)
    response = start(client, runnable, type="agent", n="3", agent_endpoint=str(endpoint.pk), agent_model="agent-x",
                     agent_max_steps="0")
    errors = response.context["sweep_form"].errors
    assert errors["agent_max_steps"] == ["max_steps must be a whole number from 1 to 200."]


def test_without_javascript_other_types_junk_does_not_block_the_chosen_type(client, owner, runnable):
    client.force_login(owner)
    response = start(client, runnable, type="grid", halving_eta="lots", tpe_n_startup_trials="-5")
    assert response.status_code == 302
    sweep = Sweep.objects.get(experiment=runnable)
    assert sweep.kind == "grid" and sweep.request["options"] == {}


def test_the_estimate_uses_the_forms_own_budget_and_says_what_happens_over_it(client, owner, runnable):
    client.force_login(owner)
    estimate = url("experiment_estimate", runnable)
    html = htmx(client, estimate + "?type=grid&budget_tokens=10&over_budget=pause",
                target="experiment-estimate").content.decode()
    assert "budget 10:" in html and "short" in html
    assert "The sweep will start and pause when it reaches the budget." in html
    html = htmx(client, estimate + "?type=grid&budget_tokens=10&over_budget=refuse",
                target="experiment-estimate").content.decode()
    assert "Starting will be refused" in html
    roomy = htmx(client, estimate + "?type=grid&budget_tokens=100000000", target="experiment-estimate")
    assert "short" not in roomy.content.decode() and "Starting will be refused" not in roomy.content.decode()


def test_refuse_over_budget_keeps_the_sweep_from_starting_and_says_by_how_much(client, owner, runnable):
    client.force_login(owner)
    response = start(client, runnable, type="grid", budget_tokens="10", over_budget="refuse")
    assert response.status_code == 400
    errors = response.context["sweep_form"].errors["budget_tokens"]
    assert "short" in errors[0]
    assert before(response.content.decode(), 'for="id_budget_tokens"', errors[0].split(":")[0], 'for="id_budget_usd"')
    assert not Sweep.objects.exists()
    assert start(client, runnable, type="grid", budget_tokens="10", over_budget="pause").status_code == 302
    assert Sweep.objects.get(experiment=runnable).budget_tokens == 10


def test_an_adaptive_type_is_estimated_with_its_own_options(client, owner, runnable):
    client.force_login(owner)
    html = htmx(client, url("experiment_estimate", runnable) + "?type=halving&halving_eta=3",
                target="experiment-estimate").content.decode()
    assert "plans as it goes from the scores" in html and "<dt>Calls</dt>" in html
    assert "No estimate until this is fixed" not in html


def test_another_users_start_with_options_is_a_404_and_a_guest_sees_no_start_panel(
        client, other_user, guest_mode, runnable):
    html = client.get(url("experiment", runnable)).content.decode()
    assert "Start a sweep" not in html and 'data-planner="tpe"' not in html
    assert start(client, runnable, type="tpe", n="4").status_code == 302  # a guest: to the login page
    client.force_login(other_user)
    assert start(client, runnable, type="tpe", n="4", tpe_n_startup_trials="2").status_code == 404
    assert not Sweep.objects.exists()
