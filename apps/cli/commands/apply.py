"""`promptlooper apply FILE`: create or update the experiment named by (project, name); a second apply is a no-op."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.cli.client import Api, ApiError
from apps.cli.commands.prepare import FileInvalid, located, prepare
from apps.cli.lookup import experiment_find, project_find

CONFIG_FIELDS = ("name", "description", "sample_data", "pipeline_stages", "scoring_config", "parameter_space",
                 "repeats", "budget_tokens", "budget_usd")


@dataclass
class Applied:
    experiment: dict
    outcome: str  # created | updated | unchanged
    changed: list[str]


def apply_file(api: Api, path: Path) -> Applied:
    prepared = prepare(api, path)
    project = project_find(api, prepared.file.project)
    if project is None:
        project = api.post("/projects", {"name": prepared.file.project})
        print(f"created project {project['name']}", file=sys.stderr)
    existing = experiment_find(api, project_id=project["id"], name=prepared.file.name)
    try:
        if existing is None:
            created = api.post("/experiments", {"project": project["id"], **prepared.body})
            return Applied(experiment=created, outcome="created", changed=list(CONFIG_FIELDS))
        current = api.get(f"/experiments/{existing['id']}")
        changed = [field for field in CONFIG_FIELDS
                   if _comparable(field, current.get(field)) != _comparable(field, prepared.normalized.get(field))]
        if not changed:
            return Applied(experiment=current, outcome="unchanged", changed=[])
        updated = api.patch(f"/experiments/{existing['id']}", {field: prepared.body.get(field) for field in changed})
        return Applied(experiment=updated, outcome="updated", changed=changed)
    except ApiError as exc:
        if exc.status != 400:
            raise
        raise FileInvalid(located(prepared.file, exc)) from None


def _comparable(field: str, value: Any) -> Any:
    if field == "budget_usd" and value is not None:
        return round(float(value), 4)  # stored as a decimal, shown as a string or a number
    if field == "description":
        return value or ""
    return value


def run(args, api_factory) -> int:
    applied = apply_file(api_factory(), Path(args.file))
    experiment = applied.experiment
    detail = f" ({', '.join(applied.changed)})" if applied.outcome == "updated" else ""
    print(f"{applied.outcome}: {experiment['project_name']}/{experiment['name']} {experiment['id']}{detail}")
    return 0
