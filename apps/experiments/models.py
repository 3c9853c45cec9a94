from __future__ import annotations

import uuid

from django.db import models

from apps.engine.config import ExperimentSpec
from apps.experiments.validation import experiment_spec


class Experiment(models.Model):
    """Sample data, 1–N pipeline stages, weighted scorers and a parameter space (see DESIGN.md)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        PAUSED = "paused"
        COMPLETED = "completed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sample_data = models.JSONField(default=list)
    pipeline_stages = models.JSONField(default=list)
    scoring_config = models.JSONField(default=dict)
    parameter_space = models.JSONField(default=list)
    repeats = models.PositiveSmallIntegerField(default=1)
    budget_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    budget_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["project", "-updated_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def spec(self) -> ExperimentSpec:
        """The typed stages, scorers and axes (see apps.experiments.validation.experiment_spec)."""
        return experiment_spec(self)
