"""Format-level guarantees that do not need the database: quoting, URL redaction, markdown cells, diffs."""

import json

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from apps.exports import markdown as md
from apps.exports.diffing import config_diff, flatten
from apps.exports.document import ExportDocument, StageDoc
from apps.exports.formats import env_export, yaml_export
from apps.exports.redaction import safe_url, scrub


def dotenv_value(raw: str) -> str:
    if raw.startswith("'"):
        return raw[1:-1]
    if raw.startswith('"'):
        return json.loads(raw.replace("\\$", "$").replace("\\`", "`"))
    return raw


@given(st.text())
@example("\n")
@example("ok\nX=1")
@example("it's $HOME\u2028Y=2")
def test_any_env_value_stays_on_one_line_and_reads_back_unchanged(text):
    quoted = env_export.quote(text)
    assert len(quoted.splitlines()) <= 1 and "\n" not in quoted
    assert dotenv_value(quoted) == text


@given(st.text(min_size=1))
def test_a_comment_never_spans_two_lines(text):
    assert len(env_export.comment(text).splitlines()) == 1


def test_env_keys_are_deduplicated_when_parameter_names_collide():
    doc = ExportDocument(experiment="e", experiment_id="1", run_id="r", score=None, score_ci=None, approval="",
                         exported_at="t", stages=[StageDoc(name="s", model="m", endpoint="http://x", endpoint_label="x",
                                                           provider="openai", params={"model": "other", "top.p": 1,
                                                                                      "top_p": 2})])
    keys = [line.split("=", 1)[0] for line in env_export.render(doc).splitlines() if not line.startswith("#")]
    assert len(keys) == len(set(keys))
    assert {"LLM_MODEL", "LLM_MODEL_2", "LLM_TOP_P", "LLM_TOP_P_2"} <= set(keys)


@given(st.text())
def test_yaml_round_trips_any_prompt(text):
    doc = ExportDocument(experiment="e", experiment_id="1", run_id="r", score=0.5, score_ci=None, approval="",
                         exported_at="t", stages=[StageDoc(name="s", model="m", endpoint="", endpoint_label="",
                                                           provider="", system_prompt=text, prompt_template=text)])
    data = yaml.safe_load(yaml_export.render(doc))
    assert data["prompt_template"] == text and data["metadata"]["score"] == 0.5


def test_safe_url_drops_userinfo_and_secret_query_values():
    assert safe_url("https://u:p@Host.example:8443/v1?key=abc&api-version=2") == \
        "https://host.example:8443/v1?key=[REDACTED]&api-version=2"
    assert safe_url("http://[::1]:11434/v1") == "http://[::1]:11434/v1"


def test_scrub_replaces_secrets_inside_nested_data():
    assert scrub({"a": ["xx sekret-123 yy", 3], "sekret-123": None}, ["sekret-123"]) == \
        {"a": ["xx [REDACTED] yy", 3], "[REDACTED]": None}


@given(st.text())
def test_a_markdown_cell_never_breaks_a_table_row(text):
    cell = md.cell(text)
    assert len(cell.splitlines()) <= 1
    assert all(cell[i - 1] == "\\" for i, ch in enumerate(cell) if ch == "|")


def test_a_fence_is_longer_than_any_backticks_inside():
    lines = md.fenced("a\n````\nb", "yaml")
    assert lines[0] == "`````yaml" and lines[-1] == "`````"


def test_config_diff_lists_changed_added_and_removed_paths():
    a = {"stages": [{"model": "m", "params": {"temperature": 0.3}}]}
    b = {"stages": [{"model": "m", "params": {"temperature": 0.30000000000000004, "top_p": 1}}, {"model": "n"}]}
    assert flatten(a) == {"stages.0.model": "m", "stages.0.params.temperature": 0.3}
    assert config_diff(a, b) == {"stages.0.params.top_p": {"a": None, "b": 1},
                                 "stages.1.model": {"a": None, "b": "n"}}
