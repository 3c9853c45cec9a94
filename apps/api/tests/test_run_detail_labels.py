"""GET /api/v1/runs/<id>: a run of a classification experiment carries its label report (accuracy, per-label
precision/recall/F1, confusion matrix); the schema documents it, and another user gets 404."""

import pytest
import yaml

from apps.endpoints.models import Endpoint
from apps.projects.models import Project
from apps.runs.driver import sweep_drive
from apps.runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = ["Positive", "Negative", "Neutral"]
# (expected label, scripted reply): right, confused, right, naming no label, right, expected outside LABELS.
ITEMS = [("Positive", "positive"), ("Positive", "Negative."), ("Negative", "negative"), ("Neutral", "no idea"),
         ("Neutral", "Neutral"), ("Sarcastic", "Positive")]


@pytest.fixture
def run(api, owner, fake_llm, monkeypatch) -> Run:
    project = Project.objects.create(owner=owner, name="Reviews")
    endpoint = Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url, max_concurrency=4)
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
    created = api.post("/api/v1/experiments", {
        "project": str(project.pk), "name": "Sentiment",
        "sample_data": [{"id": f"r{n}", "input": f"REPLY: {reply}", "expected": label}
                        for n, (label, reply) in enumerate(ITEMS)],
        "pipeline_stages": [{"name": "classify", "endpoint": str(endpoint.pk), "model": "fake-chat",
                             "prompt_template": "Classify.\n{{ input }}", "params": {"temperature": 0}}],
        "scoring_config": {"scorers": [{"type": "classification", "name": "sentiment",
                                        "options": {"labels": LABELS}},
                                       {"type": "length", "name": "length", "weight": 0, "options": {"max": 100}}]},
        "parameter_space": [],
    }, format="json")
    assert created.status_code == 201, created.content
    started = api.post(f"/api/v1/experiments/{created.json()['id']}/sweep", {}, format="json")
    sweep_drive(started.json()["sweep"]["id"])
    return Run.objects.get()


def test_run_detail_shows_accuracy_per_label_metrics_and_the_confusion_matrix(api, run):
    body = api.get(f"/api/v1/runs/{run.pk}").json()
    assert body["items_scored"] == len(ITEMS)
    (report,) = body["label_reports"]
    assert (report["scorer"], report["n"], report["correct"], report["errored"]) == ("sentiment", 5, 3, 1)
    assert report["accuracy"] == pytest.approx(0.6)
    assert report["columns"] == [*LABELS, "(other)"]
    assert report["matrix"] == [{"expected": "Positive", "counts": [1, 1, 0, 0]},
                                {"expected": "Negative", "counts": [0, 1, 0, 0]},
                                {"expected": "Neutral", "counts": [0, 0, 1, 1]}]
    stats = {s["label"]: s for s in report["labels"]}
    assert (stats["Positive"]["precision"], stats["Positive"]["recall"]) == (1.0, 0.5)
    assert stats["Positive"]["f1"] == pytest.approx(2 / 3) and stats["Negative"]["predicted"] == 2
    assert report["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 2 / 3) / 3)


def test_another_user_gets_404_not_the_label_report(run, other_user):
    from conftest import client_for

    assert client_for(other_user).get(f"/api/v1/runs/{run.pk}").status_code == 404


def test_the_openapi_schema_documents_the_label_report(api):
    schema = yaml.safe_load(api.get("/api/v1/schema").content)
    detail = schema["components"]["schemas"]["RunDetailOutput"]["properties"]
    assert detail["label_reports"]["type"] == "array"
    report = schema["components"]["schemas"]["LabelReportOutput"]["properties"]
    assert {"accuracy", "macro_f1", "labels", "columns", "matrix", "errored"} <= set(report)
