"""Deployments: named consumers of a prompt, its versions, A/B tests over them, and gateway request metrics.

The path from an offline winner to production traffic (docs/deployments.md): a run is promoted into a
PromptVersion of a Deployment; the gateway (`/gateway/v1/...`, authenticated by a DeploymentKey) applies the
active version, or the variant of a running AbTest that the session hashes to, and records a GatewayRequest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Deployment(models.Model):
    """A named consumer of prompts: where the gateway forwards to, and which prompt it applies."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployments")
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments",
        help_text="Optional: the project its prompts come from; its events then reach that project's webhooks.",
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    endpoint = models.ForeignKey("endpoints.Endpoint", on_delete=models.PROTECT, related_name="deployments")
    model = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True, help_text="Inference parameters, e.g. temperature, max_tokens.")
    auto_track = models.BooleanField(
        default=False,
        help_text="A gateway request whose system prompt matches no version creates and activates a new version.",
    )
    max_versions = models.PositiveIntegerField(
        default=50, help_text="Oldest inactive versions above this many are pruned; the active one never is."
    )
    # Bumped by every change the gateway routes by (activation, A/B start/pause/complete, settings), so a
    # gateway process can keep its routing table in memory and re-check it with one indexed read.
    revision = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="deployment_unique_name_per_owner")]

    def __str__(self) -> str:
        return self.name


class DeploymentKeyQuerySet(models.QuerySet):
    def active(self) -> DeploymentKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class DeploymentKey(models.Model):
    """A gateway credential for one deployment: shown once, stored as prefix + SHA-256 hash, revocable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = DeploymentKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PromptVersion(models.Model):
    """One prompt of a deployment: content-hashed (identical content is one version), numbered, one active."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(editable=False)
    system_prompt = models.TextField()
    user_template = models.TextField(
        blank=True, help_text="Optional; `{{ input }}` is the caller's last user message."
    )
    # Overrides of the deployment's model and parameters (a promoted run brings its own); empty = inherit.
    model = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    description = models.CharField(max_length=500, blank=True)
    created_by = models.CharField(max_length=150, blank=True, help_text="A username, or `gateway` when tracked.")
    source_run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The offline run this version was promoted from.",
    )
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "number"], name="prompt_version_unique_number"),
            models.UniqueConstraint(fields=["deployment", "content_hash"], name="prompt_version_unique_content"),
            models.UniqueConstraint(
                fields=["deployment"], condition=Q(is_active=True), name="prompt_version_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deployment} v{self.number}"


class AbTest(models.Model):
    """An A/B experiment over 2+ versions of one deployment: Draft → Running ⇄ Paused → Completed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="ab_tests")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # {"require_non_empty": true, "require_no_error": true, "require_helpful": false}
    success_criteria = models.JSONField(default=dict, blank=True)
    alpha = models.FloatField(default=0.05)
    min_samples = models.PositiveIntegerField(default=100, help_text="Per variant, before a winner may be declared.")
    auto_complete = models.BooleanField(default=False)
    # {"max_latency_increase_pct": 20, "max_cost_increase_pct": 20}; a winner past either keeps control.
    guardrails = models.JSONField(default=dict, blank=True)
    winner = models.ForeignKey("AbVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Why completion activated what it did (or nothing): the tests, their numbers and the reason.
    decision = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment"], condition=Q(status="running"), name="ab_test_one_running_per_deployment"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AbVariant(models.Model):
    """A named arm of an A/B test, backed by a prompt version; position 0 is the control."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ab_test = models.ForeignKey(AbTest, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    # RESTRICT: a version in a test cannot be deleted, but deleting the deployment takes both.
    version = models.ForeignKey(PromptVersion, on_delete=models.RESTRICT, related_name="variants")
    weight = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["ab_test", "position"], name="ab_variant_unique_position"),
            models.UniqueConstraint(fields=["ab_test", "version"], name="ab_variant_unique_version"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_control(self) -> bool:
        return self.position == 0


class GatewayRequest(models.Model):
    """One request through the gateway: what it was routed to and how it went. Written in batches."""

    id = models.BigAutoField(primary_key=True)
    request_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="requests")
    version = models.ForeignKey(PromptVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ab_test = models.ForeignKey(AbTest, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    variant = models.ForeignKey(AbVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    session_id = models.CharField(max_length=200, blank=True)
    session_assigned = models.BooleanField(default=False, help_text="No session came with it: a random one was used.")
    endpoint = models.ForeignKey(
        "endpoints.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model = models.CharField(max_length=200)
    streamed = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField()
    success = models.BooleanField()
    error = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    helpful = models.BooleanField(null=True, blank=True, help_text="User feedback, when given.")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["deployment", "-created_at"]),
            models.Index(fields=["ab_test", "variant"]),
            models.Index(fields=["model", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ({self.status_code})"
