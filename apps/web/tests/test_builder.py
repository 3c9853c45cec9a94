"""The experiment builder: create and edit through the experiment services, errors next to their fields."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from apps.endpoints.services import endpoint_create
from apps.experiments.models import Experiment
from apps.experiments.validation import CONFIG_FIELDS
from apps.web.tests.builders import htmx, make_experiment

pytestmark = pytest.mark.django_db

CONFIG_KEYS = [*CONFIG_FIELDS]


@pytest.fixture
def endpoint(owner, fake_llm):
    return endpoint_create(owner=owner, label="fake", base_url=fake_llm.base_url, api_key="")


def two_stage_json(endpoint) -> dict:
    """The experiment the builder form below describes, as the REST API takes it."""
    return {
        "name": "Summaries", "description": "Draft, then polish.",
        "sample_data": [{"id": "a", "input": "The cat sat on the mat.", "reference": "cat"},
                        {"id": "b", "input": "The dog ran home.", "reference": "dog"}],
        "pipeline_stages": [
            {"name": "draft", "endpoint": str(endpoint.pk), "model": "fake-model", "system_prompt": "Be brief.",
             "prompt_template": "Summarize: {{ input }}", "params": {"temperature": 0.2, "max_tokens": 64}},
            {"name": "polish", "endpoint": str(endpoint.pk), "model": "fake-model", "system_prompt": "",
             "prompt_template": "Polish {{ stages.draft.output }}\n(was: {{ previous }})",
             "params": {"presence_penalty": 0.5}},
        ],
        "scoring_config": {"scorers": [{"type": "keyword", "name": "mentions", "weight": 2,
                                        "options": {"keywords": ["cat", "dog"]}}]},
        "parameter_space": [{"path": "stages.0.params.temperature", "values": [0.2, 0.7, 1.0]}],
        "repeats": 2, "budget_tokens": 50000, "budget_usd": 1.5,
    }


def two_stage_form(endpoint, **overrides) -> dict:
    data = {
        "name": "Summaries", "description": "Draft, then polish.",
        "samples-rows": "2", "samples-offset": "0",
        "samples-0-id": "a", "samples-0-input": "The cat sat on the mat.", "samples-0-reference": "cat",
        "samples-1-id": "b", "samples-1-input": "The dog ran home.", "samples-1-reference": "dog",
        "stage-0-name": "draft", "stage-0-endpoint": str(endpoint.pk), "stage-0-model": "fake-model",
        "stage-0-system_prompt": "Be brief.", "stage-0-prompt_template": "Summarize: {{ input }}",
        "stage-0-temperature": "0.2", "stage-0-top_p": "", "stage-0-max_tokens": "64", "stage-0-seed": "",
        "stage-0-extra": "",
        "stage-1-name": "polish", "stage-1-endpoint": str(endpoint.pk), "stage-1-model": "fake-model",
        "stage-1-system_prompt": "",
        "stage-1-prompt_template": "Polish {{ stages.draft.output }}\r\n(was: {{ previous }})",
        "stage-1-temperature": "", "stage-1-top_p": "", "stage-1-max_tokens": "", "stage-1-seed": "",
        "stage-1-extra": '{"presence_penalty": 0.5}',
        "scorer-0-type": "keyword", "scorer-0-name": "mentions", "scorer-0-weight": "2",
        "scorer-0-options": '{"keywords": ["cat", "dog"]}',
        "axis-0-path": "stages.0.params.temperature", "axis-0-mode": "values", "axis-0-values": "0.2, 0.7\n1.0",
        "repeats": "2", "budget_tokens": "50000", "budget_usd": "1.5", "action": "save",
    }
    return {**data, **overrides}


class FormValues(HTMLParser):
    """The values a browser would submit for the page's forms (no button, no file)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type", "text") not in ("submit", "file", "button"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.values.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value", ""), "selected" in attrs))

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            # An HTML parser drops the one newline right after <textarea> (Django writes it).
            self.values.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected] or [self._options[0][0]]
            self.values.append((self._select, chosen[0]))
            self._select = None


def form_values(html: str) -> dict:
    parser = FormValues()
    parser.feed(html)
    values: dict = {}
    for name, value in parser.values:
        values.setdefault(name, []).append(value)
    return values


def stored(experiment: Experiment) -> dict:
    experiment.refresh_from_db()
    return {field: getattr(experiment, field) for field in CONFIG_KEYS}


def api_config(api, experiment_id) -> dict:
    body = api.get(f"/api/v1/experiments/{experiment_id}").json()
    return {key: body[key] for key in CONFIG_KEYS}


def test_the_builder_creates_a_two_stage_experiment_that_the_api_returns_as_if_posted_there(
        client, api, owner, project, endpoint):
    client.force_login(owner)
    response = client.post(reverse("web:experiment_create", args=[project.pk]), two_stage_form(endpoint))
    experiment = Experiment.objects.get(project=project, name="Summaries")
    assert response.status_code == 302 and response["Location"] == reverse("web:experiment", args=[experiment.pk])
    through_api = api.post("/api/v1/experiments", {**two_stage_json(endpoint), "project": str(project.pk)},
                           format="json")
    assert through_api.status_code == 201
    assert api_config(api, experiment.pk) == api_config(api, through_api.json()["id"])
    assert experiment.pipeline_stages[1]["prompt_template"] == "Polish {{ stages.draft.output }}\n(was: {{ previous }})"
    assert experiment.parameter_space == [{"path": "stages.0.params.temperature", "values": [0.2, 0.7, 1.0]}]


def test_saving_the_prefilled_edit_form_changes_nothing(client, api, owner, project, endpoint):
    created = api.post("/api/v1/experiments", {**two_stage_json(endpoint), "project": str(project.pk)}, format="json")
    experiment = Experiment.objects.get(pk=created.json()["id"])
    experiment.parameter_space = [{"path": "stages.0.params.temperature", "values": [0.2, 0.7]},
                                  {"path": "stages.1.model", "values": ["fake-model", "demo-mini"]},
                                  {"path": "stages.1.system_prompt", "values": ["Be kind.", "Line one\nline two"]},
                                  {"path": "stages.0.params.max_tokens", "min": 16, "max": 64, "step": 16}]
    experiment.save()
    before = stored(experiment)
    client.force_login(owner)
    page = client.get(reverse("web:experiment_edit", args=[experiment.pk]))
    assert page.status_code == 200
    values = form_values(page.content.decode())
    assert values["name"] == ["Summaries"] and values["stage-1-name"] == ["polish"]
    response = client.post(reverse("web:experiment_edit", args=[experiment.pk]), {**values, "action": "save"})
    assert response.status_code == 302, response.content.decode()
    assert stored(experiment) == before


def test_a_secret_scorer_option_is_masked_on_the_page_and_kept_on_save(client, owner, project, endpoint):
    experiment = make_experiment(project)
    experiment.pipeline_stages = two_stage_json(endpoint)["pipeline_stages"]
    experiment.scoring_config = {"scorers": [{"type": "webhook", "name": "grader", "weight": 1, "options": {
        "url": "https://grader.example.com/score", "headers": {"Authorization": "Bearer hush-hush"}}}]}
    experiment.save()
    client.force_login(owner)
    page = client.get(reverse("web:experiment_edit", args=[experiment.pk]))
    assert "hush-hush" not in page.content.decode() and "[set]" in page.content.decode()
    response = client.post(reverse("web:experiment_edit", args=[experiment.pk]),
                           {**form_values(page.content.decode()), "action": "save"})
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.scoring_config["scorers"][0]["options"]["headers"] == {"Authorization": "Bearer hush-hush"}


def test_a_bad_template_variable_shows_next_to_that_stages_template_and_nothing_is_saved(
        client, owner, project, endpoint):
    client.force_login(owner)
    form = two_stage_form(endpoint, **{"stage-1-prompt_template": "Polish {{ tone }}"})
    response = client.post(reverse("web:experiment_create", args=[project.pk]), form)
    assert response.status_code == 400
    assert not Experiment.objects.filter(project=project).exists()
    html = response.content.decode()
    stage = html[html.index('id="stage-1"'):html.index('id="scorer-0"')]
    template_field = stage[stage.index('for="id_stage-1-prompt_template"'):stage.index('id="stage-1-variables"')]
    assert "unknown variable &#x27;tone&#x27;" in template_field
    assert "Polish {{ tone }}" in template_field  # what was typed stays
    assert "unknown variable" not in html[:html.index('id="stage-1"')]


def test_errors_land_on_the_fields_they_name(client, owner, project, endpoint):
    client.force_login(owner)
    form = two_stage_form(endpoint, **{"stage-0-temperature": "9", "scorer-0-weight": "-1", "repeats": "0",
                                       "axis-0-values": "", "samples-1-input": ""})
    html = client.post(reverse("web:experiment_create", args=[project.pk]), form).content.decode()

    def near(field_id: str) -> str:
        start = html.index(f'for="{field_id}"')
        return html[start:start + 1500]

    assert "Must be a number between 0 and 2" in near("id_stage-0-temperature")
    assert "Must be a number ≥ 0" in near("id_scorer-0-weight")
    assert "Must be a whole number between 1 and 100" in near("id_repeats")
    assert "non-empty list" in near("id_axis-0-values")
    samples = html[html.index('id="experiment-samples"'):html.index('id="builder-config"')]
    assert "This field is required." in samples  # sample_data.1.input, on the samples table
    assert not Experiment.objects.exists()


def test_adding_moving_and_removing_stages_rerenders_without_saving(client, owner, project, endpoint):
    client.force_login(owner)
    url = reverse("web:experiment_create", args=[project.pk])
    added = client.post(url, two_stage_form(endpoint, action="stage-add"))
    assert added.status_code == 200 and 'id="stage-2"' in added.content.decode()
    values = form_values(added.content.decode())
    assert values["stage-2-name"] == ["stage3"] and values["stage-2-endpoint"] == [str(endpoint.pk)]

    moved = form_values(client.post(url, two_stage_form(endpoint, action="stage-up-1")).content.decode())
    assert moved["stage-0-name"] == ["polish"] and moved["stage-1-name"] == ["draft"]
    assert moved["axis-0-path"] == ["stages.1.params.temperature"]  # the axis follows its stage

    removed = form_values(client.post(url, two_stage_form(endpoint, action="stage-remove-0")).content.decode())
    assert removed["stage-0-name"] == ["polish"] and "stage-1-name" not in removed
    assert "axis-0-path" not in removed  # the removed stage's axis went with it
    assert not Experiment.objects.exists()


def test_an_htmx_row_action_returns_only_the_config_sections(client, owner, project, endpoint):
    client.force_login(owner)
    url = reverse("web:experiment_create", args=[project.pk])
    response = htmx(client, url, target="builder-config", method="post",
                    data=two_stage_form(endpoint, action="scorer-add"))
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="builder-config"')
    assert "<html" not in html and 'id="scorer-1"' in html and 'name="samples-rows"' not in html


def test_the_model_datalist_lists_the_endpoints_models(client, owner, endpoint, fake_llm):
    client.force_login(owner)
    url = reverse("web:experiment_models")
    response = htmx(client, url, data={"stage-0-endpoint": str(endpoint.pk), "list": "stage-0-models"})
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<datalist id="stage-0-models">')
    assert '<option value="demo-mini">' in html
    calls = fake_llm.stats["models"]
    client.get(url, {"endpoint": str(endpoint.pk), "list": "stage-0-models"})
    assert fake_llm.stats["models"] == calls  # cached


def test_an_unreachable_endpoint_gives_an_empty_list_and_a_note(client, owner):
    down = endpoint_create(owner=owner, label="down", base_url="http://127.0.0.1:9/v1", api_key="")
    client.force_login(owner)
    response = client.get(reverse("web:experiment_models"), {"endpoint": str(down.pk), "list": "stage-1-models"})
    html = response.content.decode()
    assert response.status_code == 200 and '<datalist id="stage-1-models"></datalist>' in html
    assert "Could not list the models" in html


def test_another_users_endpoint_has_no_model_list(client, other_user, endpoint):
    client.force_login(other_user)
    assert client.get(reverse("web:experiment_models"), {"endpoint": str(endpoint.pk)}).status_code == 404


def test_the_space_count_multiplies_axes_repeats_and_items(client, owner, endpoint):
    client.force_login(owner)
    form = two_stage_form(endpoint, **{"axis-1-path": "stages.1.model", "axis-1-mode": "values",
                                       "axis-1-values": "fake-model\ndemo-mini"})
    response = htmx(client, reverse("web:experiment_space_count"), target="builder-space-count", method="post",
                    data=form)
    html = response.content.decode()
    assert html.lstrip().startswith('<output id="builder-space-count"')
    assert "3 × 2 = 6 combinations × 2 repeats × 2 items = 24 calls per stage, 48 in all (2 stages)" in html


def test_the_space_count_shows_an_axis_error_instead(client, owner, endpoint):
    client.force_login(owner)
    form = two_stage_form(endpoint, **{"axis-0-values": "0.2, 7"})
    html = client.post(reverse("web:experiment_space_count"), form).content.decode()
    assert "Axis 1 values.1: Must be a number between 0 and 2." in html and "combination" not in html


def test_the_page_shows_the_count_and_the_variables_of_each_stage(client, owner, project, endpoint):
    client.force_login(owner)
    html = client.post(reverse("web:experiment_create", args=[project.pk]),
                       two_stage_form(endpoint, action="axis-add")).content.decode()
    first = html[html.index('id="stage-0-variables"'):html.index('id="stage-1"')]
    second = html[html.index('id="stage-1-variables"'):html.index('id="scorer-0"')]
    assert "{{ input }}" in first and "{{ reference }}" in first and "previous" not in first
    assert "{{ previous }}" in second and "{{ stages.draft.output }}" in second
    assert 'value="stages.1.params.presence_penalty"' in html  # a param the stage sets can be swept


def test_another_users_experiment_and_project_are_404_pages(client, other_user, project, experiment):
    client.force_login(other_user)
    assert client.get(reverse("web:experiment_edit", args=[experiment.pk])).status_code == 404
    assert client.post(reverse("web:experiment_edit", args=[experiment.pk]), {"name": "mine"}).status_code == 404
    assert client.get(reverse("web:experiment_create", args=[project.pk])).status_code == 404
    assert client.post(reverse("web:experiment_create", args=[project.pk]), {"name": "x"}).status_code == 404
    experiment.refresh_from_db()
    assert experiment.name == "Tone check"


def test_guests_and_anonymous_visitors_are_sent_to_log_in(client, project, experiment, guest_mode):
    urls = [reverse("web:experiment_create", args=[project.pk]), reverse("web:experiment_edit", args=[experiment.pk]),
            reverse("web:experiment_models"), reverse("web:experiment_space_count")]
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"name": "guest was here"})
            assert response.status_code in (302, 405) and (
                response.status_code == 405 or response["Location"].startswith(reverse("accounts:login")))
    experiment.refresh_from_db()
    assert experiment.name == "Tone check" and Experiment.objects.count() == 1


def test_the_project_page_links_to_the_builder_for_its_owner_only(client, owner, project, experiment, guest_mode):
    create = reverse("web:experiment_create", args=[project.pk])
    client.force_login(owner)
    html = client.get(reverse("web:project_detail", args=[project.pk])).content.decode()
    assert create in html and reverse("web:experiment", args=[experiment.pk]) in html
    client.logout()
    html = client.get(reverse("web:project_detail", args=[project.pk])).content.decode()
    assert create not in html and reverse("web:experiment", args=[experiment.pk]) in html


def test_options_that_are_not_json_say_so_next_to_the_field(client, owner, project, endpoint):
    client.force_login(owner)
    form = two_stage_form(endpoint, **{"scorer-0-options": '{"keywords": ["cat"'})
    html = client.post(reverse("web:experiment_create", args=[project.pk]), form).content.decode()
    start = html.index('for="id_scorer-0-options"')
    assert "Not valid JSON" in html[start:start + 600]
    assert not Experiment.objects.exists()


def test_the_significance_level_is_saved_kept_on_edit_and_refused_next_to_its_field(client, owner, project, endpoint):
    client.force_login(owner)
    response = client.post(reverse("web:experiment_create", args=[project.pk]),
                           two_stage_form(endpoint, alpha="0.01"))
    assert response.status_code == 302, response.content.decode()
    experiment = Experiment.objects.get()
    assert experiment.scoring_config["significance"] == {"alpha": 0.01}
    values = form_values(client.get(reverse("web:experiment_edit", args=[experiment.pk])).content.decode())
    assert values["alpha"] == ["0.01"]
    client.post(reverse("web:experiment_edit", args=[experiment.pk]), {**values, "action": "save"})
    experiment.refresh_from_db()
    assert experiment.scoring_config["significance"] == {"alpha": 0.01}  # an edit does not drop it
    html = client.post(reverse("web:experiment_edit", args=[experiment.pk]),
                       {**values, "alpha": "2", "action": "save"}).content.decode()
    near = html[html.index('for="id_alpha"'):][:1500]
    assert "errorlist" in near
    experiment.refresh_from_db()
    assert experiment.scoring_config["significance"] == {"alpha": 0.01}
