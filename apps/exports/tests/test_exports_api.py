"""The four export endpoints: shapes, chosen runs, records, and who may download them."""

import json

import pytest
import yaml

from apps.exports.models import ExportRecord
from apps.exports.tests.builders import CANARY_KEY, make_experiment, make_run
from apps.runs.models import Run

FORMATS = {"best": "application/json", "env": "text/plain", "yaml": "application/yaml", "report": "text/markdown"}


def url(experiment, fmt: str, **query) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/experiments/{experiment.pk}/export/{fmt}" + (f"?{qs}" if qs else "")


def text_of(response) -> str:
    return response.content.decode()


def env_pairs(content: str) -> dict[str, str]:
    """A strict dotenv reader: one KEY=value per non-comment line; quotes and escapes as dotenv defines."""
    pairs = {}
    for line in content.split("\n"):
        if not line or line.startswith("#"):
            continue
        key, _, raw = line.partition("=")
        assert key.replace("_", "").isalnum() and key[0].isalpha(), line
        if raw.startswith("'"):
            assert raw.endswith("'") and "'" not in raw[1:-1]
            value = raw[1:-1]
        elif raw.startswith('"'):
            assert raw.endswith('"') and len(raw) >= 2
            value = json.loads(raw.replace("\\$", "$").replace("\\`", "`"))
        else:
            assert " " not in raw and '"' not in raw
            value = raw
        pairs[key] = value
    return pairs


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_downloads_as_an_attachment_with_its_content_type(api, experiment, runs, fmt):
    response = api.get(url(experiment, fmt))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(FORMATS[fmt])
    assert response["Content-Disposition"].startswith('attachment; filename="fact-extraction-v2')


def test_json_export_of_a_pipeline_lists_every_stage_with_its_endpoint_url_and_label(api, experiment, runs):
    body = json.loads(text_of(api.get(url(experiment, "best"))))
    assert [s["name"] for s in body["stages"]] == ["extract", "summarize"]
    first = body["stages"][0]
    assert first["model"] == "big-model"
    assert first["params"] == {"temperature": 0.1, "max_tokens": 64}
    assert first["endpoint"] == "https://llm.example.test/v1?api_key=[REDACTED]"
    assert first["endpoint_label"] == "prod-llm"
    assert first["system_prompt"].startswith("You extract facts.\nX=1")
    assert body["score"] == 0.9 and body["score_ci"] == [0.86, 0.94]
    assert body["experiment"] == "Fact extraction v2"
    assert body["run_id"] == str(runs["best"].pk)
    assert body["exported_at"].endswith("Z")


def test_single_stage_json_has_the_flat_keys_of_the_spec(api, owner, endpoint):
    stage = {"name": "only", "endpoint": str(endpoint.pk), "model": "qwen", "system_prompt": "Be brief.",
             "prompt_template": "{{ input }}", "params": {"temperature": 0.3, "top_p": 0.85, "max_tokens": 2048,
                                                         "score": 5}}
    experiment = make_experiment(owner, endpoint, stages=[stage], name="single")
    run = make_run(experiment, score=0.87)
    body = json.loads(text_of(api.get(url(experiment, "best"))))
    assert body["model"] == "qwen" and body["endpoint"].startswith("https://llm.example.test/v1")
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.85, 2048)
    assert body["system_prompt"] == "Be brief." and body["prompt_template"] == "{{ input }}"
    assert body["score"] == 0.87 and body["run_id"] == str(run.pk) and body["experiment"] == "single"
    assert body["extra_params"] == {"score": 5}
    assert "stages" not in body


def test_yaml_export_parses_back_with_safe_load_and_keeps_prompts_as_blocks(api, experiment, runs):
    content = text_of(api.get(url(experiment, "yaml")))
    data = yaml.safe_load(content)
    assert [s["name"] for s in data["stages"]] == ["extract", "summarize"]
    assert data["stages"][0]["parameters"] == {"temperature": 0.1, "max_tokens": 64}
    assert data["stages"][0]["system_prompt"] == runs["best"].config["stages"][0]["system_prompt"]
    assert data["stages"][1]["parameters"]["stop"] == ["\n\n"]
    assert data["metadata"]["score"] == 0.9 and data["metadata"]["run_id"] == str(runs["best"].pk)
    assert "system_prompt: |" in content


def test_env_export_lines_parse_and_a_prompt_line_cannot_define_a_variable(api, experiment, runs):
    content = text_of(api.get(url(experiment, "env")))
    pairs = env_pairs(content)
    assert "X" not in pairs
    assert pairs["EXTRACT_LLM_MODEL"] == "big-model"
    assert pairs["EXTRACT_LLM_API_URL"].startswith("https://llm.example.test/v1")
    assert pairs["EXTRACT_LLM_TEMPERATURE"] == "0.1"
    assert pairs["EXTRACT_LLM_SYSTEM_PROMPT"] == runs["best"].config["stages"][0]["system_prompt"]
    assert pairs["SUMMARIZE_LLM_STOP"] == '["\\n\\n"]'
    assert pairs["SUMMARIZE_LLM_PROMPT_TEMPLATE"] == "Summarize: {{ previous }}"
    assert content.rstrip("\n").split("\n")[-2] == "# Score: 0.9 | Experiment: Fact extraction v2"


def test_single_stage_env_uses_unprefixed_llm_variables(api, owner, endpoint):
    stage = {"name": "only", "endpoint": str(endpoint.pk), "model": "qwen", "prompt_template": "{{ input }}",
             "params": {"temperature": 0.3, "top_p": 0.85}}
    experiment = make_experiment(owner, endpoint, stages=[stage], name="one\nLLM_MODEL=evil")
    make_run(experiment, score=0.87)
    pairs = env_pairs(text_of(api.get(url(experiment, "env"))))
    assert pairs["LLM_MODEL"] == "qwen" and pairs["LLM_TEMPERATURE"] == "0.3" and pairs["LLM_TOP_P"] == "0.85"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_export_contains_the_api_key_or_url_credentials(api, experiment, runs, fmt):
    content = text_of(api.get(url(experiment, fmt)))
    assert CANARY_KEY not in content
    assert "hunter22" not in content and "zzz" not in content
    assert "prod-llm" in content


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_pasted_into_a_prompt_is_scrubbed_from_the_export(api, owner, endpoint, fmt):
    stages = [{"name": "only", "endpoint": str(endpoint.pk), "model": "m",
               "prompt_template": f"Use key {CANARY_KEY} | now", "params": {}}]
    experiment = make_experiment(owner, endpoint, stages=stages)
    make_run(experiment, score=0.5, point={"stages.0.system_prompt": f"secret {CANARY_KEY}"})
    content = text_of(api.get(url(experiment, fmt)))
    assert CANARY_KEY not in content and "[REDACTED]" in content


def test_each_export_writes_an_export_record(api, owner, experiment, runs):
    for fmt in FORMATS:
        assert api.get(url(experiment, fmt)).status_code == 200
    records = ExportRecord.objects.filter(experiment=experiment)
    assert sorted(records.values_list("format", flat=True)) == ["env", "json", "report", "yaml"]
    assert {(r.project_id, r.run_id, r.created_by_id) for r in records} == {
        (experiment.project_id, runs["best"].pk, owner.pk)}


def test_run_query_exports_the_chosen_run(api, experiment, runs):
    body = json.loads(text_of(api.get(url(experiment, "best", run=runs["middling"].pk))))
    assert body["run_id"] == str(runs["middling"].pk) and body["score"] == 0.7
    assert ExportRecord.objects.get().run_id == runs["middling"].pk


def test_a_rejected_run_is_never_exported_as_best(api, experiment, runs):
    for fmt in ("best", "yaml"):
        assert str(runs["rejected"].pk) not in text_of(api.get(url(experiment, fmt)))


def test_an_approved_run_is_preferred_over_a_higher_score(api, experiment, runs):
    Run.objects.filter(pk=runs["middling"].pk).update(approval=Run.Approval.APPROVED)
    body = json.loads(text_of(api.get(url(experiment, "best"))))
    assert body["run_id"] == str(runs["middling"].pk) and body["approval"] == "approved"


def test_no_finished_runs_gives_404_with_a_clear_message(api, experiment):
    make_run(experiment, status=Run.Status.PENDING, score=None)
    response = api.get(url(experiment, "best"), HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert "no finished runs" in response.json()["detail"]
    assert not ExportRecord.objects.exists()


def test_errors_are_json_even_when_markdown_is_accepted(api, experiment):
    response = api.get(url(experiment, "report"), HTTP_ACCEPT="text/markdown")
    assert response.status_code == 404 and "detail" in response.json()


def test_choosing_an_unfinished_or_foreign_run_is_404_and_a_malformed_id_is_400(api, experiment, runs, other_user,
                                                                                 endpoint):
    assert api.get(url(experiment, "best", run=runs["pending"].pk)).status_code == 404
    theirs = make_run(make_experiment(other_user, endpoint, name="theirs"), score=0.99)
    assert api.get(url(experiment, "best", run=theirs.pk)).status_code == 404
    response = api.get(url(experiment, "best", run="not-a-uuid"))
    assert response.status_code == 400 and "run" in response.json()


def test_another_user_gets_404_for_my_export(other_api, experiment, runs):
    for fmt in FORMATS:
        assert other_api.get(url(experiment, fmt)).status_code == 404
    assert not ExportRecord.objects.exists()


def test_anonymous_gets_401_when_guest_access_is_off(anon_api, experiment, runs):
    for fmt in FORMATS:
        assert anon_api.get(url(experiment, fmt)).status_code == 401
    assert not ExportRecord.objects.exists()


def test_a_guest_may_download_exports_without_secrets_and_is_recorded_anonymously(anon_api, guest_mode, experiment,
                                                                                  runs):
    for fmt in FORMATS:
        response = anon_api.get(url(experiment, fmt))
        assert response.status_code == 200
        assert CANARY_KEY not in text_of(response)
    assert set(ExportRecord.objects.values_list("created_by", flat=True)) == {None}


def test_a_guest_cannot_post_to_an_export(anon_api, guest_mode, experiment, runs):
    assert anon_api.post(url(experiment, "best")).status_code in (401, 403)
    assert not ExportRecord.objects.exists()
