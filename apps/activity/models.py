from __future__ import annotations

from django.conf import settings
from django.db import models


class Event(models.Model):
    """The activity timeline; the same row feeds live views, the dashboard and webhooks."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=50)
    project = models.ForeignKey("projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    # Lazy references: runs sits above activity (it writes events in its own transactions).
    sweep = models.ForeignKey("runs.Sweep", null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "runs_event"  # moved from runs without copying rows (activity.0001)
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["experiment", "-id"]),
            # A signed-in owner's timeline (owner and experiment both filtered): its count is index-only.
            models.Index(fields=["experiment", "owner", "-id"], name="event_experiment_owner"),
            models.Index(fields=["owner", "-id"]),
            models.Index(fields=["kind", "-id"]),
        ]

    def __str__(self) -> str:
        return self.kind
