"""`promptlooper apply FILE`: create or update the experiment named by (project, name); a second apply is a no-op."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.cli.client import Api, ApiError
from apps.cli.commands.prepare import FileInvalid, located, prepare
from apps.cli.lookup import experiment_find, project_find
from apps.cli.secrets import MASK

CONFIG_FIELDS = ("name", "description", "sample_data", "pipeline_stages", "scoring_config", "parameter_space",
                 "repeats", "budget_tokens", "budget_usd")


@dataclass
class Applied:
    experiment: dict
    outcome: str  # created | updated | unchanged
    changed: list[str]


def apply_file(api: Api, path: Path, *, force: bool = False) -> Applied:
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
        # The server shows secret values masked, so a secret is compared as masked too: --force sends them.
        changed = list(CONFIG_FIELDS) if force else [
            field for field in CONFIG_FIELDS if _comparable(field, current.get(field)) != _comparable(
                field, _masked_like(prepared.normalized.get(field), current.get(field)))]
        if not changed:
            return Applied(experiment=current, outcome="unchanged", changed=[])
        updated = api.patch(f"/experiments/{existing['id']}", {field: prepared.body.get(field) for field in changed})
        return Applied(experiment=updated, outcome="updated", changed=changed)
    except ApiError as exc:
        if exc.status != 400:
            raise
        raise FileInvalid(located(prepared.file, exc)) from None


def _masked_like(value: Any, shown: Any) -> Any:
    """`value` with MASK wherever the server's copy `shown` has MASK in its place."""
    if shown == MASK and isinstance(value, str):
        return MASK
    if isinstance(value, dict) and isinstance(shown, dict):
        return {key: _masked_like(item, shown.get(key)) for key, item in value.items()}
    if isinstance(value, list) and isinstance(shown, list) and len(value) == len(shown):
        return [_masked_like(item, other) for item, other in zip(value, shown, strict=True)]
    return value


def _comparable(field: str, value: Any) -> Any:
    if field == "budget_usd" and value is not None:
        return round(float(value), 4)  # stored as a decimal, shown as a string or a number
    if field == "description":
        return value or ""
    return value


def run(args, api_factory) -> int:
    applied = apply_file(api_factory(), Path(args.file), force=args.force)
    experiment = applied.experiment
    detail = f" ({', '.join(applied.changed)})" if applied.outcome == "updated" else ""
    print(f"{applied.outcome}: {experiment['project_name']}/{experiment['name']} {experiment['id']}{detail}")
    return 0
