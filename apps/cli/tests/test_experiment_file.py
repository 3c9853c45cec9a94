"""The experiment file without a server: its checks, and every error (local or the server's) at the right line."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from apps.cli.commands.pull import experiment_document
from apps.cli.experiment_file import experiment_file_load
from apps.cli.yamlfile import FileError

EXPERIMENT = """\
project: Support
name: Summaries
stages:
  - name: draft
    endpoint: Local
    model: m1
    prompt_template: |
      Summarize: {{ input }}
    params:
      temperature: 0.2
scorers:
  - type: embedding_similarity
    options: {endpoint: Local, model: embed}
parameter_space:
  - path: stages.0.endpoint
    values: [Local, Other]
budgets:
  tokens: 1000
"""


def with_samples_file(name: str) -> str:
    return EXPERIMENT.replace("stages:", f"samples_file: {name}\nstages:")


def write(tmp_path: Path, text: str, name: str = "experiment.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_server_error_on_a_stage_field_is_reported_at_that_fields_line(tmp_path):
    experiment = experiment_file_load(write(tmp_path, EXPERIMENT))
    problem = experiment.locate("pipeline_stages.0.prompt_template", "unknown variable 'inptu'")
    assert problem.line == 7
    assert str(problem).endswith("experiment.yaml:7: stages[0].prompt_template: unknown variable 'inptu'")


@pytest.mark.parametrize(("api_path", "line"), [
    ("pipeline_stages.0.params.temperature", 10),
    ("pipeline_stages.0.system_prompt", 4),  # not in the file: the stage it belongs to
    ("scoring_config.scorers.0.options.model", 13),
    ("parameter_space.0.values.1", 16),
    ("budget_tokens", 18),
    ("budget_usd", 17),  # no usd budget: the budgets mapping
    ("name", 2),
])
def test_server_paths_map_to_the_yaml_line_of_the_value_or_its_nearest_parent(tmp_path, api_path, line):
    experiment = experiment_file_load(write(tmp_path, EXPERIMENT))
    assert experiment.locate(api_path, "bad").line == line


def test_unknown_keys_and_missing_stage_fields_are_reported_at_their_lines(tmp_path):
    experiment = experiment_file_load(write(tmp_path, """\
        project: Support
        name: Summaries
        stagse: []
        stages:
          - endpoint: Local
            model: m1
            temprature: 0.3
        """))
    problems = [str(p) for p in experiment.problems]
    assert any(":3: stagse: unknown key" in p for p in problems)
    assert any(":7: stages[0].temprature: unknown key" in p for p in problems)
    assert any(":5: stages[0]: 'prompt_template' is required" in p for p in problems)


def test_endpoint_labels_become_ids_in_stages_scorer_options_and_endpoint_axes(tmp_path):
    experiment = experiment_file_load(write(tmp_path, EXPERIMENT))
    body = experiment.body({"Local": "id-local", "Other": "id-other"})
    assert body["pipeline_stages"][0]["endpoint"] == "id-local"
    assert body["scoring_config"]["scorers"][0]["options"]["endpoint"] == "id-local"
    assert body["parameter_space"][0]["values"] == ["id-local", "id-other"]
    assert body["budget_tokens"] == 1000 and body["budget_usd"] is None
    assert experiment.data["stages"][0]["endpoint"] == "Local"  # the file's own data is untouched


def test_items_from_a_jsonl_file_are_located_at_their_own_line_in_that_file(tmp_path):
    write(tmp_path, '{"id": "a", "input": "one"}\n\n{"id": "b", "input": ""}\n', "items.jsonl")
    experiment = experiment_file_load(write(tmp_path, with_samples_file("items.jsonl")))
    assert not experiment.problems
    assert experiment.body({})["sample_data"] == [{"id": "a", "input": "one"}, {"id": "b", "input": ""}]
    problem = experiment.locate("sample_data.1.input", "'input' is empty")
    assert (Path(problem.file).name, problem.line, problem.where) == ("items.jsonl", 3, "item 2")


def test_csv_rows_keep_their_line_and_extra_columns_become_variables(tmp_path):
    write(tmp_path, 'id,input,topic\na,"two\nlines",cats\nb,three,\n', "items.csv")
    experiment = experiment_file_load(write(tmp_path, with_samples_file("items.csv")))
    assert experiment.samples_source.data == [{"id": "a", "input": "two\nlines", "vars": {"topic": "cats"}},
                                              {"id": "b", "input": "three"}]
    assert experiment.locate("sample_data.1.id", "duplicate").line == 4


def test_a_missing_samples_file_is_an_error_at_the_samples_file_line(tmp_path):
    experiment = experiment_file_load(write(tmp_path, with_samples_file("nope.csv")))
    assert [p.line for p in experiment.problems] == [3]
    assert "no such file" in experiment.problems[0].message


def test_yaml_aliases_are_refused_with_their_line(tmp_path):
    path = write(tmp_path, "project: &p Support\nname: *p\nstages: []\n")
    with pytest.raises(FileError) as error:
        experiment_file_load(path)
    assert error.value.line == 2 and "aliases" in error.value.message


def test_invalid_yaml_names_its_line(tmp_path):
    with pytest.raises(FileError) as error:
        experiment_file_load(write(tmp_path, "project: Support\nname: [unclosed\nstages: []\n"))
    assert error.value.line == 3


def test_a_pulled_document_names_endpoints_by_label_and_drops_empty_fields():
    detail = {"project_name": "Support", "name": "Summaries", "description": "", "repeats": 2,
              "budget_tokens": None, "budget_usd": "1.5000", "sample_data": [{"id": "1", "input": "x"}],
              "pipeline_stages": [{"name": "draft", "endpoint": "e1", "model": "m1", "system_prompt": "",
                                   "prompt_template": "{{ input }}", "params": {}}],
              "scoring_config": {"scorers": [{"type": "llm_judge", "name": "judge", "weight": 1.0,
                                              "options": {"endpoint": "e1"}}]},
              "parameter_space": [{"path": "stages.0.endpoint", "values": ["e1"]}]}
    document = experiment_document(detail, {"e1": "Local"})
    assert document["stages"] == [{"name": "draft", "endpoint": "Local", "model": "m1",
                                   "prompt_template": "{{ input }}"}]
    assert document["scorers"][0]["options"]["endpoint"] == "Local"
    assert document["parameter_space"][0]["values"] == ["Local"]
    assert document["budgets"] == {"usd": 1.5}
    assert "description" not in document


def test_the_cli_imports_no_django_code():
    code = ("import sys; sys.modules['django'] = None; import apps.cli.main; "
            "print(sorted(m for m in sys.modules if m.startswith('apps.') and not m.startswith('apps.cli')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.strip() == "[]"
