"""Project writes: create, update, delete, and the saved "best" configurations."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.projects.models import Project, SavedConfig
from apps.runs.models import Run

MAX_NAME = 200
MAX_TEXT = 100_000
_EDITABLE = ("name", "description", "notes")


def _clean_name(value: Any, field: str = "name") -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError({field: ["This field may not be blank."]})
    if len(name) > MAX_NAME:
        raise ValidationError({field: [f"Ensure this field has no more than {MAX_NAME} characters."]})
    return name


def _clean_text(value: Any, field: str) -> str:
    text = str(value or "")
    if len(text) > MAX_TEXT:
        raise ValidationError({field: [f"Ensure this field has no more than {MAX_TEXT} characters."]})
    return text


def project_create(*, owner, name: str, description: str = "", notes: str = "") -> Project:
    """Create a project owned by `owner`."""
    return Project.objects.create(
        owner=owner,
        name=_clean_name(name),
        description=_clean_text(description, "description"),
        notes=_clean_text(notes, "notes"),
    )


def project_update(*, project: Project, **fields: Any) -> Project:
    """Change name, description and/or notes; unknown fields are an error, nothing is half-saved."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in sorted(unknown)})
    cleaned = {
        field: _clean_name(value) if field == "name" else _clean_text(value, field)
        for field, value in fields.items()
    }
    for field, value in cleaned.items():
        setattr(project, field, value)
    project.save(update_fields=[*cleaned, "updated_at"])
    return project


def project_delete(*, project: Project) -> None:
    """Delete the project with its experiments, sweeps, runs, saved configs and export history."""
    project.delete()


def saved_config_create(
    *,
    project: Project,
    name: str,
    config: dict,
    run_id=None,
    score: float | None = None,
    notes: str = "",
) -> SavedConfig:
    """Keep a configuration; a linked run must belong to one of this project's experiments."""
    if not isinstance(config, dict):
        raise ValidationError({"config": ["Expected a JSON object."]})
    if score is not None and (not isinstance(score, (int, float)) or not math.isfinite(score)):
        raise ValidationError({"score": ["Expected a finite number."]})
    run = None
    if run_id is not None:
        run = Run.objects.filter(pk=run_id, experiment__project=project).first()
        if run is None:
            raise ValidationError({"run": ["No run with this id in this project."]})
        if score is None:
            score = run.weighted_score
    with transaction.atomic():
        saved = SavedConfig.objects.create(
            project=project,
            name=_clean_name(name),
            config=config,
            run=run,
            score=score,
            notes=_clean_text(notes, "notes"),
        )
        # Saving a config is activity on the project: it moves up the "recent" list.
        project.save(update_fields=["updated_at"])
    return saved


def saved_config_delete(*, saved_config: SavedConfig) -> None:
    saved_config.delete()
