"""What validate, apply and sweep share: the file checked locally, then by the server, with every problem located."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from apps.cli.client import Api, ApiError, CliError
from apps.cli.experiment_file import ExperimentFile, Problem, experiment_file_load
from apps.cli.lookup import endpoint_ids_by_label
from apps.cli.yamlfile import FileError


@dataclass
class Prepared:
    file: ExperimentFile
    body: dict  # the REST body, endpoint labels resolved to ids
    normalized: dict  # the server's normalized fields: what creating the experiment would store


class FileInvalid(CliError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)), code=2)
        self.problems = problems


def load_checked(path: Path) -> ExperimentFile:
    """The file with its local checks done; FileInvalid when any failed."""
    try:
        experiment = experiment_file_load(path)
    except FileError as exc:
        raise FileInvalid([Problem(exc.file, exc.line, "", exc.message)]) from None
    if experiment.problems:
        raise FileInvalid(experiment.problems)
    return experiment


def prepare(api: Api, path: Path) -> Prepared:
    """Local checks, endpoint labels, then the server's own validation of the whole config."""
    experiment = load_checked(path)
    ids = endpoint_ids_by_label(api)
    for where, label in experiment.endpoint_labels():
        if label not in ids:
            known = ", ".join(sorted(ids)) or "none yet"
            experiment.problem(where, f"no endpoint labelled '{label}' (yours: {known})")
    if experiment.problems:
        raise FileInvalid(experiment.problems)
    body = experiment.body(ids)
    try:
        normalized = api.post("/experiments/validate", body)["experiment"]
    except ApiError as exc:
        if exc.status != 400:
            raise
        raise FileInvalid(located(experiment, exc)) from None
    return Prepared(file=experiment, body=body, normalized=normalized)


def located(experiment: ExperimentFile, error: ApiError) -> list[Problem]:
    problems = [experiment.locate(key, message) for key, messages in error.field_errors.items()
                for message in messages]
    detail = error.body.get("detail") if isinstance(error.body, dict) else None
    if detail:
        problems.append(Problem(experiment.source.file, None, "", str(detail)))
    return problems or [Problem(experiment.source.file, None, "", str(error))]
