"""Saved "best" configurations of a project: keep one (optionally linked to its run), rename, list, delete."""

from __future__ import annotations

import math
import uuid

from django.db import transaction
from django.db.models import QuerySet

from apps.core.errors import InvalidInput
from apps.exports.models import SavedConfig
from apps.projects.models import Project
from apps.projects.services import clean_name, clean_text
from apps.runs.models import Run


def saved_config_create(
    *,
    project: Project,
    name: str,
    config: dict,
    run_id: uuid.UUID | str | None = None,
    score: float | None = None,
    notes: str = "",
) -> SavedConfig:
    """Keep a configuration; a linked run must belong to one of this project's experiments."""
    if not isinstance(config, dict):
        raise InvalidInput.field("config", "Expected a JSON object.")
    if score is not None and (not isinstance(score, (int, float)) or not math.isfinite(score)):
        raise InvalidInput.field("score", "Expected a finite number.")
    run = None
    if run_id is not None:
        run = Run.objects.filter(pk=run_id, experiment__project=project).first()
        if run is None:
            raise InvalidInput.field("run", "No run with this id in this project.")
        if score is None:
            score = run.weighted_score
    with transaction.atomic():
        saved = SavedConfig.objects.create(
            project=project,
            name=clean_name(name),
            config=config,
            run=run,
            score=score,
            notes=clean_text(notes, "notes"),
        )
        # Saving a config is activity on the project: it moves up the "recent" list.
        project.save(update_fields=["updated_at"])
    return saved


def saved_config_update(
    *, saved_config: SavedConfig, name: str | None = None, notes: str | None = None
) -> SavedConfig:
    """Rename or annotate a saved configuration (the config itself is the run's snapshot, never edited)."""
    fields = {}
    if name is not None:
        fields["name"] = clean_name(name)
    if notes is not None:
        fields["notes"] = clean_text(notes, "notes")
    for field, value in fields.items():
        setattr(saved_config, field, value)
    if fields:
        saved_config.save(update_fields=list(fields))
    return saved_config


def saved_config_delete(*, saved_config: SavedConfig) -> None:
    """Forget a saved configuration (its run stays)."""
    saved_config.delete()


def saved_config_list(*, project: Project) -> QuerySet[SavedConfig]:
    """The project's saved configurations, newest first."""
    return SavedConfig.objects.filter(project=project).order_by("-created_at")
