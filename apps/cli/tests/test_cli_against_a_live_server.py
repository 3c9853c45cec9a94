"""The installed `promptlooper` command against a running server whose worker calls the fake LLM.

The fake LLM answers a `REPLY: text` line with that text, so the prompt variant decides the keyword score:
the "approved" variant scores 1, the "rejected" variant 0.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import yaml

EXPERIMENT = """\
project: {project}
name: Tickets
description: Is the ticket approved?
samples_file: items.jsonl
stages:
  - name: answer
    endpoint: Fake
    model: fake-chat
    prompt_template: "REPLY: approved {{{{ input }}}}"
    params:
      temperature: 0.2
scorers:
  - type: keyword
    options:
      keywords: [approved]
parameter_space:
  - path: stages.0.prompt_template
    values:
{variants}
repeats: 1
"""
YES, NO = '      - "REPLY: approved {{ input }}"', '      - "REPLY: rejected {{ input }}"'
ITEMS = '{"id": "t1", "input": "ticket one"}\n{"id": "t2", "input": "ticket two"}\n'


def experiment_file(tmp_path: Path, *, project: str = "CLI", variants: tuple[str, ...] = (YES, NO),
                    name: str = "experiment.yaml") -> Path:
    (tmp_path / "items.jsonl").write_text(ITEMS)
    path = tmp_path / name
    path.write_text(EXPERIMENT.format(project=project, variants="\n".join(variants)))
    return path


def runs_of(server, experiment_id: str) -> list[dict]:
    return server.api.get(f"/experiments/{experiment_id}/runs", params={"page_size": 500}).json()["results"]


def experiment_id(server, ref: str) -> str:
    project, name = ref.split("/")
    projects = server.api.get("/projects", params={"search": project}).json()["results"]
    pid = next(p["id"] for p in projects if p["name"] == project)
    experiments = server.api.get("/experiments", params={"project": pid}).json()["results"]
    return next(e["id"] for e in experiments if e["name"] == name)


def test_validate_reports_the_servers_errors_at_their_yaml_lines(server, tmp_path):
    path = experiment_file(tmp_path, project="Validate")
    text = path.read_text().replace("endpoint: Fake", "endpoint: Nowhere").replace(
        "REPLY: approved {{ input }}\"\n    params", "REPLY: {{ inptu }}\"\n    params")
    path.write_text(text)
    result = server.cli("validate", str(path))
    assert result.returncode == 2, result
    assert f"{path}:7: stages[0].endpoint: no endpoint labelled 'Nowhere' (yours: Fake)" in result.stderr
    assert "Traceback" not in result.stderr

    path.write_text(text.replace("endpoint: Nowhere", "endpoint: Fake"))
    result = server.cli("validate", str(path))
    assert result.returncode == 2, result
    assert f"{path}:9: stages[0].prompt_template: " in result.stderr
    assert "inptu" in result.stderr

    (tmp_path / "items.jsonl").write_text('{"id": "t1", "input": "one"}\n{"id": "t1", "input": "two"}\n')
    path.write_text(text.replace("endpoint: Nowhere", "endpoint: Fake").replace("{{ inptu }}", "{{ input }}"))
    result = server.cli("validate", str(path))
    assert result.returncode == 2, result
    assert f"{tmp_path / 'items.jsonl'}:2: item 2:" in result.stderr


def test_a_valid_file_validates_and_nothing_is_created(server, tmp_path):
    result = server.cli("validate", str(experiment_file(tmp_path, project="Only validated")))
    assert result.returncode == 0, result
    assert "valid (1 stage, 2 sample items" in result.stdout
    assert server.api.get("/projects", params={"search": "Only validated"}).json()["count"] == 0


def test_apply_creates_then_changes_nothing_then_updates_what_the_file_changed(server, tmp_path):
    path = experiment_file(tmp_path, project="Apply")
    first = server.cli("apply", str(path))
    assert first.returncode == 0, first
    assert first.stdout.startswith("created: Apply/Tickets ")
    experiment = experiment_id(server, "Apply/Tickets")
    before = server.api.get(f"/experiments/{experiment}").json()

    second = server.cli("apply", str(path))
    assert second.returncode == 0, second
    assert second.stdout.startswith("unchanged: Apply/Tickets ")
    assert server.api.get(f"/experiments/{experiment}").json()["updated_at"] == before["updated_at"]

    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.7"))
    third = server.cli("apply", str(path))
    assert third.stdout.startswith("updated: Apply/Tickets ") and "(pipeline_stages)" in third.stdout
    assert server.api.get(f"/experiments/{experiment}").json()["pipeline_stages"][0]["params"] == {"temperature": 0.7}


def test_sweep_waits_ranks_the_runs_and_sets_the_exit_code_by_the_threshold(server, tmp_path):
    path = experiment_file(tmp_path, project="Sweep")
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    passed = server.cli("sweep", str(path), "--wait", "--fail-under", "0.9", "--junit", str(junit),
                        "--markdown", str(markdown))
    assert passed.returncode == 0, passed
    assert "2/2 runs" in passed.stderr and "PASS fail-under: best weighted score 1.0000 ≥ 0.9" in passed.stderr
    table = passed.stdout.splitlines()
    assert table[0].split()[:3] == ["rank", "run", "status"]
    assert "1.000" in table[2] and "prompt_template=REPLY: approved" in table[2]
    assert "0.000" in table[3] and "prompt_template=REPLY: rejected" in table[3]
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert "✅ **fail-under**" in markdown.read_text()

    failed = server.cli("sweep", str(path), "--wait", "--fail-under", "1.01", "--junit", str(junit))
    assert failed.returncode == 1, failed
    assert "FAIL fail-under: best weighted score 1.0000 < 1.01" in failed.stderr
    # The same configurations again: every call (2 runs × 2 items) is served from the cache, no tokens spent.
    assert "2/2 runs · 0 tokens · $0.0000 · 4 cache hits" in failed.stderr
    assert ET.parse(junit).getroot().get("failures") == "1"


def test_baseline_fails_a_sweep_whose_best_run_is_worse_on_the_same_items(server, tmp_path):
    good = server.cli("sweep", str(experiment_file(tmp_path, project="Baseline", variants=(YES,))), "--wait")
    assert good.returncode == 0, good
    good_run = runs_of(server, experiment_id(server, "Baseline/Tickets"))[0]["id"]

    worse = experiment_file(tmp_path, project="Baseline worse", variants=(NO,), name="worse.yaml")
    result = server.cli("sweep", str(worse), "--baseline", good_run)
    assert result.returncode == 1, result
    assert "FAIL baseline: best 0.0000 < baseline 1.0000 on 2 shared item scores" in result.stderr

    result = server.cli("sweep", str(experiment_file(tmp_path, project="Baseline again", variants=(YES, NO),
                                                     name="again.yaml")), "--baseline", good_run)
    assert result.returncode == 0, result
    assert "PASS baseline" in result.stderr


def test_export_writes_the_best_configuration_as_an_env_file(server, tmp_path):
    assert server.cli("sweep", str(experiment_file(tmp_path, project="Export")), "--wait").returncode == 0
    out = tmp_path / "best.env"
    result = server.cli("export", "Export/Tickets", "--format", "env", "-o", str(out))
    assert result.returncode == 0, result
    env = out.read_text()
    assert "LLM_MODEL=fake-chat" in env and "REPLY: approved" in env
    assert "# Score: 1 | Experiment: Tickets" in env

    missing = server.cli("export", "Export/Nope", "--format", "env")
    assert missing.returncode == 3 and "No experiment 'Nope' in project 'Export'" in missing.stderr


def test_pull_then_apply_elsewhere_recreates_the_experiment_with_the_same_config_hashes(server, tmp_path):
    assert server.cli("sweep", str(experiment_file(tmp_path, project="Pull")), "--wait").returncode == 0
    pulled = tmp_path / "pulled.yaml"
    assert server.cli("pull", "Pull/Tickets", "-o", str(pulled)).returncode == 0
    document = yaml.safe_load(pulled.read_text())
    assert document["stages"][0]["endpoint"] == "Fake" and len(document["samples"]) == 2

    # Applying the pulled file unchanged is a no-op; into another project it is a copy that hashes the same.
    assert server.cli("apply", str(pulled)).stdout.startswith("unchanged: Pull/Tickets")
    copy = tmp_path / "copy.yaml"
    copy.write_text(pulled.read_text().replace("project: Pull", "project: Pull copy", 1))
    result = server.cli("sweep", str(copy), "--wait")
    assert result.returncode == 0, result
    hashes = {run["config_hash"] for run in runs_of(server, experiment_id(server, "Pull/Tickets"))}
    copied = {run["config_hash"] for run in runs_of(server, experiment_id(server, "Pull copy/Tickets"))}
    assert len(hashes) == 2 and copied == hashes


def test_status_lists_no_sweep_once_all_have_finished_and_a_bad_key_is_a_clear_error(server):
    result = server.cli("status")
    assert result.returncode == 0 and "No sweep is running or paused." in result.stdout
    refused = server.cli("status", "--api-key", "pl_wrong")
    assert refused.returncode == 3 and "refused the API key" in refused.stderr and "Traceback" not in refused.stderr
    assert textwrap.dedent(refused.stderr).count("\n") == 1


def experiment_id_for(api, ref: str) -> str:
    project, name = ref.split("/")
    pid = next(p["id"] for p in api.get("/projects", params={"search": project}).json()["results"]
               if p["name"] == project)
    return next(e["id"] for e in api.get("/experiments", params={"project": pid}).json()["results"]
                if e["name"] == name)


def hashes_of(api, ref: str) -> set[str]:
    runs = api.get(f"/experiments/{experiment_id_for(api, ref)}/runs", params={"page_size": 500}).json()["results"]
    return {run["config_hash"] for run in runs}


def test_a_pulled_file_applied_by_another_account_plans_runs_with_the_same_config_hashes(
        server, second_account, tmp_path):
    path = experiment_file(tmp_path, project="Across")
    path.write_text(path.read_text().replace("  - path: stages.0.prompt_template", (
        "  - path: stages.0.endpoint\n    values: [Fake]\n  - path: stages.0.prompt_template")))
    assert server.cli("sweep", str(path), "--wait").returncode == 0
    pulled = tmp_path / "pulled.yaml"
    assert server.cli("pull", "Across/Tickets", "-o", str(pulled)).returncode == 0

    applied = server.cli("sweep", str(pulled), "--wait", key=second_account.key)
    assert applied.returncode == 0, applied
    assert "created: Across/Tickets" in applied.stderr
    ours, theirs = hashes_of(server.api, "Across/Tickets"), hashes_of(second_account.api, "Across/Tickets")
    assert len(ours) == 2 and theirs == ours
    mine = server.api.get("/endpoints").json()["results"][0]["id"]
    other = second_account.api.get("/endpoints").json()["results"][0]["id"]
    assert mine != other  # the same label, not the same endpoint


def test_pulled_secrets_are_placeholders_that_apply_fills_from_the_environment(server, second_account, tmp_path):
    path = experiment_file(tmp_path, project="Secrets")
    path.write_text(path.read_text().replace("parameter_space:", (
        "  - type: webhook\n    name: review\n    options:\n      url: https://scores.example.com/score\n"
        "      headers: {Authorization: Bearer s3cret}\nparameter_space:")))
    assert server.cli("apply", str(path)).returncode == 0
    pulled = tmp_path / "pulled.yaml"
    result = server.cli("pull", "Secrets/Tickets", "-o", str(pulled))
    assert result.returncode == 0 and "set REVIEW_HEADERS_AUTHORIZATION" in result.stderr
    assert "s3cret" not in pulled.read_text()
    assert yaml.safe_load(pulled.read_text())["scorers"][1]["options"]["headers"] == {
        "Authorization": "${ENV:REVIEW_HEADERS_AUTHORIZATION}"}

    unset = server.cli("apply", str(pulled), key=second_account.key)
    assert unset.returncode == 2 and "environment variable REVIEW_HEADERS_AUTHORIZATION is not set" in unset.stderr
    assert f"{pulled}:" in unset.stderr

    env = {"REVIEW_HEADERS_AUTHORIZATION": "Bearer other"}
    first = server.cli("apply", str(pulled), key=second_account.key, env=env)
    assert first.returncode == 0 and first.stdout.startswith("created: Secrets/Tickets"), first
    # The server shows the secret masked: compared masked, a second apply changes nothing.
    assert server.cli("apply", str(pulled), key=second_account.key, env=env).stdout.startswith("unchanged:")
    forced = server.cli("apply", str(pulled), "--force", key=second_account.key, env=env)
    assert forced.returncode == 0 and forced.stdout.startswith("updated: Secrets/Tickets"), forced


def test_a_sweep_paused_by_its_budget_fails_the_wait_with_the_reason_and_status_lists_it(server, tmp_path):
    path = experiment_file(tmp_path, project="Budget", variants=(
        '      - "REPLY: budget one {{ input }}"', '      - "REPLY: budget two {{ input }}"'))
    path.write_text(path.read_text().replace("repeats: 1", "repeats: 1\nbudgets:\n  tokens: 1"))
    result = server.cli("sweep", str(path), "--wait", "--fail-under", "0")
    assert result.returncode == 1, result
    assert "the sweep ended paused (token budget of 1 reached" in result.stderr
    assert "Traceback" not in result.stderr

    status = server.cli("status")
    assert status.returncode == 0, status
    row = next(line for line in status.stdout.splitlines() if line.startswith("Budget/Tickets"))
    assert "paused (token budget of 1 reached" in row and "grid" in row
    server.api.post(f"/experiments/{experiment_id(server, 'Budget/Tickets')}/stop").raise_for_status()
    assert "No sweep is running or paused." in server.cli("status").stdout


def test_the_winner_of_a_sweep_is_promoted_then_activated_and_the_gateway_serves_it(server, tmp_path):
    assert server.cli("sweep", str(experiment_file(tmp_path, project="Ship")), "--wait").returncode == 0
    best = server.api.get(f"/experiments/{experiment_id(server, 'Ship/Tickets')}/leaderboard").json()["results"][0]
    assert best["weighted_score"] == 1.0
    server.api.post(f"/runs/{best['run_id']}/approve").raise_for_status()
    endpoint = server.api.get("/endpoints").json()["results"][0]["id"]
    deployment = server.api.post("/deployments", json={"name": "ship-bot", "endpoint": endpoint,
                                                       "model": "fake-chat"}).json()
    server.api.post(f"/deployments/{deployment['id']}/prompts/versions",
                    json={"user_template": "REPLY: current {{ input }}"}).raise_for_status()

    promoted = server.cli("promote", best["run_id"], "--deployment", "ship-bot")
    assert promoted.returncode == 0, promoted
    assert "ship-bot version 2: created from run" in promoted.stdout and "version 1 stays active" in promoted.stdout
    versions = server.cli("versions", "ship-bot").stdout.splitlines()
    assert versions[2].split()[:2] == ["v2", best["run_id"]] and versions[3].split()[:2] == ["v1", "*"]

    activated = server.cli("activate", "ship-bot", "2")
    assert activated.returncode == 0 and "version 2 is active (was version 1)" in activated.stdout, activated
    row = next(line for line in server.cli("deployments").stdout.splitlines() if line.startswith("ship-bot"))
    assert row.split()[3:5] == ["v2", "—"]

    key = server.api.post(f"/deployments/{deployment['id']}/keys", json={"name": "prod"}).json()["key"]
    reply = httpx.post(f"{server.stack.base_url}/gateway/v1/chat/completions", timeout=30,
                       headers={"Authorization": f"Bearer {key}"},
                       json={"model": "any", "messages": [{"role": "user", "content": "ticket three"}]})
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-PromptLooper-Version"] == "2"
    assert reply.json()["choices"][0]["message"]["content"].startswith("approved")

    refused = server.cli("promote", best["run_id"], "--deployment", "nowhere")
    assert refused.returncode == 3 and "No deployment named 'nowhere'" in refused.stderr
