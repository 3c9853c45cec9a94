from apps.experiments.models import Experiment
from apps.experiments.tests.test_api import LIST, payload

SECRET = "Bearer scorer-secret-9f8e7d"


def webhook_config(value=SECRET):
    return {"scorers": [{"type": "webhook", "name": "grader", "weight": 1,
                         "options": {"url": "https://grader.example.com/score", "headers": {"Authorization": value}}}]}


def test_webhook_scorer_headers_are_masked_and_survive_a_round_trip(api, project, endpoint):
    created = api.post(LIST, payload(project, endpoint, scoring_config=webhook_config()), format="json")
    assert created.status_code == 201, created.content
    assert SECRET not in created.content.decode()
    experiment_id = created.json()["id"]
    detail = api.get(f"{LIST}/{experiment_id}").json()
    assert detail["scoring_config"]["scorers"][0]["options"]["headers"] == {"Authorization": "[set]"}
    detail["scoring_config"]["scorers"][0]["weight"] = 3
    updated = api.patch(f"{LIST}/{experiment_id}", {"scoring_config": detail["scoring_config"]}, format="json")
    assert updated.status_code == 200 and SECRET not in updated.content.decode()
    stored = Experiment.objects.get(pk=experiment_id).scoring_config["scorers"][0]
    assert stored["options"]["headers"] == {"Authorization": SECRET} and stored["weight"] == 3
