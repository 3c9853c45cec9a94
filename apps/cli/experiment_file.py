"""The experiment file: YAML a person keeps in git, turned into the REST API's experiment body and back.

Endpoints are named by label in the file and by id on the server; every error, local or the server's,
is reported at the line of the value it is about (see `Problem` and `ExperimentFile.locate`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.cli.samples import samples_load
from apps.cli.secrets import placeholders, resolved
from apps.cli.yamlfile import FileError, Located, load_file

TOP_KEYS = ("project", "name", "description", "samples", "samples_file", "stages", "scorers", "parameter_space",
            "repeats", "budgets")
STAGE_KEYS = ("name", "endpoint", "model", "system_prompt", "prompt_template", "params")
BUDGET_KEYS = ("tokens", "usd")
# API field → where it lives in the file
API_TO_FILE = {"pipeline_stages": ("stages",), "sample_data": ("samples",), "budget_tokens": ("budgets", "tokens"),
               "budget_usd": ("budgets", "usd")}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    where: str  # the file's own path to the value, e.g. stages[0].prompt_template
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.where + ': ' if self.where else ''}{self.message}"


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class ExperimentFile:
    source: Located
    samples_source: Located | None = None
    problems: list[Problem] = field(default_factory=list)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)  # fills ${ENV:NAME} in scorer options

    @property
    def data(self) -> dict:
        return self.source.data if isinstance(self.source.data, dict) else {}

    @property
    def project(self) -> str:
        return str(self.data.get("project") or "")

    @property
    def name(self) -> str:
        return str(self.data.get("name") or "")

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.source.file, self.source.line(path), dotted(path), message))

    def locate(self, api_path: str, message: str) -> Problem:
        """A server error keyed by API field path (`pipeline_stages.0.model`), at the file line it comes from."""
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in api_path.split(".")]
        head = parts[0]
        if head in ("non_field_errors", "detail", "__all__"):
            return Problem(self.source.file, None, "", message)
        if head == "sample_data" and self.samples_source is not None:
            path = tuple(parts[1:])
            return Problem(self.samples_source.file, self.samples_source.line(path),
                           f"item {path[0] + 1}" if path and isinstance(path[0], int) else "", message)
        if head == "scoring_config":
            path = ("scorers", *parts[2:]) if parts[1:2] == ["scorers"] else ("scorers",)
        else:
            path = (*API_TO_FILE.get(str(head), (head,)), *parts[1:])
        return Problem(self.source.file, self.source.line(path), dotted(path), message)

    def endpoint_labels(self) -> list[tuple[tuple, str]]:
        """Every endpoint the file names, with where: stages, scorer options and endpoint axes."""
        found = []
        for i, stage in enumerate(_list(self.data.get("stages"))):
            if isinstance(stage, dict) and isinstance(stage.get("endpoint"), str):
                found.append((("stages", i, "endpoint"), stage["endpoint"]))
        for i, scorer in enumerate(_list(self.data.get("scorers"))):
            options = scorer.get("options") if isinstance(scorer, dict) else None
            if isinstance(options, dict) and isinstance(options.get("endpoint"), str):
                found.append((("scorers", i, "options", "endpoint"), options["endpoint"]))
        for i, axis in enumerate(_list(self.data.get("parameter_space"))):
            if isinstance(axis, dict) and str(axis.get("path", "")).endswith(".endpoint"):
                for j, value in enumerate(_list(axis.get("values"))):
                    if isinstance(value, str):
                        found.append((("parameter_space", i, "values", j), value))
        return found

    def body(self, endpoint_ids: dict[str, str]) -> dict:
        """The REST experiment body (without `project`); labels missing from `endpoint_ids` stay as given."""
        data = self.data
        body: dict[str, Any] = {"name": data.get("name"), "description": data.get("description") or ""}
        if self.samples_source is not None:
            body["sample_data"] = self.samples_source.data
        elif "samples" in data:
            body["sample_data"] = data["samples"]
        body["pipeline_stages"] = [_copy(stage) for stage in _list(data.get("stages"))]
        body["scoring_config"] = {"scorers": [resolved(_copy(s), self.env) for s in _list(data.get("scorers"))]}
        body["parameter_space"] = [_copy(axis) for axis in _list(data.get("parameter_space"))]
        if "repeats" in data:
            body["repeats"] = data["repeats"]
        budgets = data.get("budgets") if isinstance(data.get("budgets"), dict) else {}
        body["budget_tokens"] = budgets.get("tokens")
        body["budget_usd"] = budgets.get("usd")
        for path, label in self.endpoint_labels():
            _set(body, _api_path(path), endpoint_ids.get(label, label))
        return body


def experiment_file_load(path: Path, *, env: Mapping[str, str] | None = None) -> ExperimentFile:
    """Read and check the file's shape (keys, types, the samples file, the variables its placeholders name);
    `problems` lists what is wrong."""
    source = load_file(path)
    experiment = ExperimentFile(source=source, **({"env": env} if env is not None else {}))
    data = source.data
    if not isinstance(data, dict):
        experiment.problem((), "the file must be a mapping with project, name and stages")
        return experiment
    for key in data:
        if key not in TOP_KEYS:
            experiment.problem((key,), f"unknown key (expected one of: {', '.join(TOP_KEYS)})")
    for key in ("project", "name"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            experiment.problem((key,) if key in data else (), f"'{key}' is required (text)")
    if "samples" in data and "samples_file" in data:
        experiment.problem(("samples_file",), "give samples or samples_file, not both")
    elif "samples_file" in data:
        _load_samples(experiment, path)
    elif "samples" in data and not isinstance(data["samples"], list):
        experiment.problem(("samples",), "must be a list of items")
    stages = data.get("stages")
    if not isinstance(stages, list) or not stages:
        experiment.problem(("stages",) if "stages" in data else (), "'stages' is required: a list of stages")
    else:
        for i, stage in enumerate(stages):
            _check_stage(experiment, i, stage)
    for key in ("scorers", "parameter_space"):
        if key in data and not isinstance(data[key], list):
            experiment.problem((key,), "must be a list")
    for i, scorer in enumerate(_list(data.get("scorers"))):
        options = scorer.get("options") if isinstance(scorer, dict) else None
        for where, name in placeholders(options, ("scorers", i, "options")):
            if name not in experiment.env:
                experiment.problem(where, f"environment variable {name} is not set (it fills ${{ENV:{name}}})")
    budgets = data.get("budgets")
    if budgets is not None:
        if not isinstance(budgets, dict):
            experiment.problem(("budgets",), "must be a mapping with tokens and/or usd")
        else:
            for key in budgets:
                if key not in BUDGET_KEYS:
                    experiment.problem(("budgets", key), "unknown budget (expected tokens or usd)")
    return experiment


def _check_stage(experiment: ExperimentFile, i: int, stage: Any) -> None:
    if not isinstance(stage, dict):
        experiment.problem(("stages", i), "each stage must be a mapping")
        return
    for key in stage:
        if key not in STAGE_KEYS:
            experiment.problem(("stages", i, key), f"unknown key (expected one of: {', '.join(STAGE_KEYS)})")
    for key in ("endpoint", "model", "prompt_template"):
        if not isinstance(stage.get(key), str) or not stage[key].strip():
            where = ("stages", i, key) if key in stage else ("stages", i)
            experiment.problem(where, f"'{key}' is required (text{', an endpoint label' if key == 'endpoint' else ''})")


def _load_samples(experiment: ExperimentFile, path: Path) -> None:
    ref = experiment.data["samples_file"]
    if not isinstance(ref, str) or not ref.strip():
        experiment.problem(("samples_file",), "must be a path relative to this file")
        return
    target = (path.parent / ref).resolve()
    if not target.is_file():
        experiment.problem(("samples_file",), f"no such file: {target}")
        return
    try:
        experiment.samples_source = samples_load(target, name=str(path.parent / ref))
    except FileError as exc:
        experiment.problems.append(Problem(exc.file, exc.line, "", exc.message))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _api_path(path: tuple) -> tuple:
    if path[0] == "stages":
        return ("pipeline_stages", *path[1:])
    if path[0] == "scorers":
        return ("scoring_config", "scorers", *path[1:])
    return path


def _set(body: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        body = body[part]
    body[path[-1]] = value
