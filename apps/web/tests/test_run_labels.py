"""Labelled data end to end: a classification experiment through the real driver against the fake LLM,
its confusion matrix on the run page and in the markdown report, and its options checked at save."""

import pytest

from apps.endpoints.models import Endpoint
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = ["Positive", "Negative", "Neutral"]
# (expected label, scripted reply): 3 right, one confused, one naming no label, one label outside LABELS.
ITEMS = [("Positive", "positive"), ("Positive", "Negative."), ("Negative", "negative"), ("Neutral", "no idea"),
         ("Neutral", "Neutral"), ("Sarcastic", "Positive")]
CLASSIFY = {"type": "classification", "name": "sentiment", "weight": 1, "options": {"labels": LABELS}}


def payload(project, endpoint, scorers) -> dict:
    return {
        "project": str(project.pk), "name": "Sentiment",
        "sample_data": [{"id": f"r{n}", "input": f"REPLY: {reply}", "expected": label}
                        for n, (label, reply) in enumerate(ITEMS)],
        "pipeline_stages": [{"name": "classify", "endpoint": str(endpoint.pk), "model": "fake-chat",
                             "prompt_template": "Classify the review.\n{{ input }}", "params": {"temperature": 0}}],
        "scoring_config": {"scorers": scorers},
        "parameter_space": [{"path": "stages.0.params.temperature", "values": [0]}],
    }


@pytest.fixture
def endpoint(owner, fake_llm):
    return Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url, max_concurrency=4)


@pytest.fixture
def classified_run(api, project, endpoint, monkeypatch) -> Run:
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
    created = api.post("/api/v1/experiments", payload(project, endpoint, [CLASSIFY]), format="json")
    assert created.status_code == 201, created.content
    started = api.post(f"/api/v1/experiments/{created.json()['id']}/sweep", {}, format="json")
    sweep_drive(str(Sweep.objects.get(pk=started.json()["sweep"]["id"]).pk))
    return Run.objects.get()


def test_the_run_page_shows_accuracy_per_label_f1_and_the_confusion_matrix(client, owner, classified_run):
    assert classified_run.status == Run.Status.COMPLETED
    assert classified_run.weighted_score == pytest.approx(3 / 5)
    client.force_login(owner)
    html = client.get(f"/runs/{classified_run.pk}/").content.decode()
    summary = html[html.index('id="run-summary"'):html.index("</section>", html.index('id="run-summary"'))]
    assert "Classification: sentiment" in summary
    assert "Accuracy <strong>0.600</strong> (3 of 5 correct)" in summary and "1 not scored" in summary
    # Positive: precision 1/1, recall 1/2; Negative: precision 1/2, recall 1/1; Neutral: 1/1 and 1/2.
    metrics = summary[summary.index('class="label-metrics"'):summary.index('class="confusion"')]
    assert ('<th scope="row">Positive</th><td class="num">1.000</td><td class="num">0.500</td>'
            '<td class="num">0.667</td><td class="num">2</td><td class="num">1</td>') in metrics
    assert '<th scope="row">Negative</th><td class="num">0.500</td><td class="num">1.000</td>' in metrics
    matrix = summary[summary.index('class="confusion"'):]
    assert [header for header in ("Positive", "Negative", "Neutral", "(other)") if f'class="num">{header}</th>' in
            matrix] == ["Positive", "Negative", "Neutral", "(other)"]
    assert ('<th scope="row">Positive</th><td class="num hit">1</td><td class="num">1</td>'
            '<td class="num">0</td><td class="num">0</td>') in matrix
    assert ('<th scope="row">Neutral</th><td class="num">0</td><td class="num">0</td>'
            '<td class="num hit">1</td><td class="num">1</td>') in matrix
    # Each item says why: the confused one and the label outside the allowed ones.
    assert "expected &#x27;Positive&#x27;, predicted &#x27;Negative&#x27;" in html
    assert "the expected label &#x27;Sarcastic&#x27; is not one of the labels: Positive, Negative, Neutral" in html


def test_the_markdown_report_carries_the_label_report_of_the_best_run(api, classified_run):
    response = api.get(f"/api/v1/experiments/{classified_run.experiment_id}/export/report")
    assert response.status_code == 200
    report = response.content.decode()
    assert "### Classification: sentiment" in report
    assert "Accuracy 0.600 (3 of 5 correct), macro F1 0.667; 1 not scored." in report
    assert "| Positive | 1.000 | 0.500 | 0.667 | 2 | 1 |" in report
    assert "| Expected \\ predicted | Positive | Negative | Neutral | (other) |" in report
    assert "| Positive | 1 | 1 | 0 | 0 |" in report and "| Negative | 0 | 1 | 0 | 0 |" in report
    assert "| Neutral | 0 | 0 | 1 | 1 |" in report


def test_a_page_without_classification_scorers_shows_no_label_report(client, owner, api, project, endpoint,
                                                                      monkeypatch):
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
    exact = {"type": "exact_match", "name": "exact", "weight": 1, "options": {"ignore_punctuation": True}}
    created = api.post("/api/v1/experiments", payload(project, endpoint, [exact]), format="json").json()
    started = api.post(f"/api/v1/experiments/{created['id']}/sweep", {}, format="json").json()
    sweep_drive(started["sweep"]["id"])
    run = Run.objects.get()
    assert run.weighted_score == pytest.approx(3 / 6)  # "Negative." ≠ Positive; "Positive" ≠ Sarcastic
    client.force_login(owner)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    assert "Classification:" not in html and "confusion" not in html


@pytest.mark.parametrize(("scorer", "field"), [
    ({"type": "classification", "options": {"labels": ["Yes", "yes."]}}, "scoring_config.scorers.0.options.labels.1"),
    ({"type": "classification", "options": {"match": "contains"}}, "scoring_config.scorers.0.options.labels"),
    ({"type": "numeric", "options": {"abs_tol": -1}}, "scoring_config.scorers.0.options.abs_tol"),
    ({"type": "regex", "options": {"pattern": "^\\d+$"}}, "scoring_config.scorers.0.options.pattern"),
    ({"type": "json_fields", "options": {"fields": ["a b"]}}, "scoring_config.scorers.0.options.fields.0"),
    ({"type": "exact_match", "options": {"expected": "{{ oops"}}, "scoring_config.scorers.0.options.expected"),
])
def test_bad_options_are_refused_when_the_experiment_is_saved_naming_the_field(api, project, endpoint, scorer,
                                                                               field):
    response = api.post("/api/v1/experiments", payload(project, endpoint, [scorer]), format="json")
    assert response.status_code == 400
    assert field in response.json()
