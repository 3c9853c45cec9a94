"""Secret scorer options: `pull` writes `${ENV:NAME}` where the server shows a mask; `apply` fills it from the
environment, and says which line names a variable that is not set."""

from pathlib import Path

from apps.cli.commands.pull import experiment_document
from apps.cli.experiment_file import experiment_file_load
from apps.cli.yamlfile import dump

DETAIL = {
    "project_name": "Support", "name": "Hooked", "description": "", "repeats": 1, "budget_tokens": None,
    "budget_usd": None, "sample_data": [{"id": "1", "input": "x"}],
    "pipeline_stages": [{"name": "draft", "endpoint": "e1", "model": "m1", "prompt_template": "{{ input }}"}],
    "scoring_config": {"scorers": [{"type": "webhook", "name": "review-hook", "weight": 1.0, "options": {
        "url": "https://scores.example.com/score", "headers": {"Authorization": "[set]", "X-Team": "[set]"},
        "timeout_s": 10.0}}]},
    "parameter_space": [],
}


def pulled(tmp_path: Path) -> Path:
    path = tmp_path / "pulled.yaml"
    path.write_text(dump(experiment_document(DETAIL, {"e1": "Local"})))
    return path


def test_pull_writes_a_named_placeholder_for_each_masked_secret_and_says_which_to_set(tmp_path, capsys):
    document = experiment_document(DETAIL, {"e1": "Local"})
    assert document["scorers"][0]["options"]["headers"] == {
        "Authorization": "${ENV:REVIEW_HOOK_HEADERS_AUTHORIZATION}", "X-Team": "${ENV:REVIEW_HOOK_HEADERS_X_TEAM}"}
    assert document["scorers"][0]["options"]["url"] == "https://scores.example.com/score"
    assert "set REVIEW_HOOK_HEADERS_AUTHORIZATION, REVIEW_HOOK_HEADERS_X_TEAM" in capsys.readouterr().err
    assert DETAIL["scoring_config"]["scorers"][0]["options"]["headers"]["Authorization"] == "[set]"


def test_apply_sends_the_values_of_the_variables_the_placeholders_name(tmp_path):
    env = {"REVIEW_HOOK_HEADERS_AUTHORIZATION": "Bearer s3cret", "REVIEW_HOOK_HEADERS_X_TEAM": "blue"}
    experiment = experiment_file_load(pulled(tmp_path), env=env)
    assert not experiment.problems
    body = experiment.body({"Local": "id-local"})
    assert body["scoring_config"]["scorers"][0]["options"]["headers"] == {
        "Authorization": "Bearer s3cret", "X-Team": "blue"}
    assert experiment.data["scorers"][0]["options"]["headers"]["X-Team"] == "${ENV:REVIEW_HOOK_HEADERS_X_TEAM}"


def test_a_variable_that_is_not_set_is_an_error_at_the_line_of_its_placeholder(tmp_path):
    path = pulled(tmp_path)
    experiment = experiment_file_load(path, env={"REVIEW_HOOK_HEADERS_AUTHORIZATION": "Bearer s3cret"})
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "X-Team" in text)
    assert [str(p) for p in experiment.problems] == [
        f"{path}:{line}: scorers[0].options.headers.X-Team: environment variable REVIEW_HOOK_HEADERS_X_TEAM is "
        "not set (it fills ${ENV:REVIEW_HOOK_HEADERS_X_TEAM})"]
