"""Export artefacts of a project: configurations kept as "best" and the history of exports taken."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class SavedConfig(models.Model):
    """A configuration the user chose to keep ("best" so far), optionally linked to its run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="saved_configs")
    name = models.CharField(max_length=200)
    config = models.JSONField()
    run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    score = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The model moved here from apps.projects; its table kept the old name (no data copied).
        db_table = "projects_savedconfig"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class ExportRecord(models.Model):
    class Format(models.TextChoices):
        JSON = "json", "JSON"
        ENV = "env", ".env"
        YAML = "yaml", "YAML"
        REPORT = "report", "Markdown report"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="exports")
    experiment = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    format = models.CharField(max_length=10, choices=Format.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "projects_exportrecord"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_format_display()} export"
