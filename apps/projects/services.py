"""Project writes: create, update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.core.errors import InvalidInput
from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_NAME = 200
MAX_TEXT = 100_000
_EDITABLE = ("name", "description", "notes")


def clean_name(value: Any, field: str = "name") -> str:
    """A required, trimmed name of at most MAX_NAME characters."""
    name = str(value or "").strip()
    if not name:
        raise InvalidInput.field(field, "This field may not be blank.")
    if len(name) > MAX_NAME:
        raise InvalidInput.field(field, f"Ensure this field has no more than {MAX_NAME} characters.")
    return name


def clean_text(value: Any, field: str) -> str:
    """Optional free text of at most MAX_TEXT characters."""
    text = str(value or "")
    if len(text) > MAX_TEXT:
        raise InvalidInput.field(field, f"Ensure this field has no more than {MAX_TEXT} characters.")
    return text


def project_create(*, owner: User, name: str, description: str = "", notes: str = "") -> Project:
    """Create a project owned by `owner`."""
    return Project.objects.create(
        owner=owner,
        name=clean_name(name),
        description=clean_text(description, "description"),
        notes=clean_text(notes, "notes"),
    )


def project_update(*, project: Project, **fields: Any) -> Project:
    """Change name, description and/or notes; unknown fields are an error, nothing is half-saved."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise InvalidInput(errors={field: ["This field cannot be changed."] for field in sorted(unknown)})
    cleaned = {
        field: clean_name(value) if field == "name" else clean_text(value, field)
        for field, value in fields.items()
    }
    for field, value in cleaned.items():
        setattr(project, field, value)
    project.save(update_fields=[*cleaned, "updated_at"])
    return project


def project_delete(*, project: Project) -> None:
    """Delete the project with its experiments, sweeps, runs, saved configs and export history."""
    project.delete()
