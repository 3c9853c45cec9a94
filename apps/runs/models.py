from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.engine.planners import PLANNERS
from apps.runs.querysets import ResponseCacheManager, RunQuerySet, SweepQuerySet


class Sweep(models.Model):
    # The planners in the engine's registry (Kind.GRID, …), plus SINGLE: an ad-hoc run of one configuration.
    Kind = models.TextChoices("Kind", [(kind.upper(), (kind, label))
                                       for kind, label in [*PLANNERS.choices(), ("single", "Single")]])

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        PAUSED = "paused"
        COMPLETED = "completed"
        STOPPED = "stopped"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    experiment = models.ForeignKey("experiments.Experiment", on_delete=models.CASCADE, related_name="sweeps")
    kind = models.CharField(max_length=20, choices=Kind.choices)  # "prompt_search": 13
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    request = models.JSONField(default=dict, help_text="The sweep request as submitted.")
    parameter_space = models.JSONField(default=list)
    seed = models.BigIntegerField(null=True, blank=True)
    repeats = models.PositiveSmallIntegerField(default=1)
    sample_ids = models.JSONField(null=True, blank=True)
    budget_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    budget_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)
    runs_total = models.PositiveIntegerField(default=0)
    runs_done = models.PositiveIntegerField(default=0)
    calls_total = models.PositiveIntegerField(default=0)
    cache_hits = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    driver_heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SweepQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["experiment", "-created_at"]),
            models.Index(fields=["status", "driver_heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sweep of {self.experiment_id}"


class Run(models.Model):
    """One point of the parameter space evaluated over the sample items, `repeats` times each."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CACHED = "cached"
        CANCELLED = "cancelled"

    class Approval(models.TextChoices):
        NONE = "", "—"
        APPROVED = "approved"
        REJECTED = "rejected"

    # The status sets every reader uses (through RunQuerySet): one spelling of "finished".
    FINISHED = (Status.COMPLETED, Status.CACHED)
    SCORED = (*FINISHED, Status.FAILED)
    TERMINAL = (*SCORED, Status.CANCELLED)
    UNFINISHED = (Status.PENDING, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column FK indexes: the composite indexes below lead with experiment and sweep.
    experiment = models.ForeignKey("experiments.Experiment", on_delete=models.CASCADE, related_name="runs",
                                   db_index=False)
    sweep = models.ForeignKey(Sweep, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs",
                              db_index=False)
    position = models.PositiveIntegerField(default=0, help_text="Order within the sweep's plan.")
    config = models.JSONField()
    point = models.JSONField(default=dict, blank=True, help_text="The parameter-space values of this run.")
    config_hash = models.CharField(max_length=64)
    sample_ids = models.JSONField(null=True, blank=True,
                                  help_text="The item ids this run runs on, when a subset of its sweep's (a halving "
                                            "rung); null: all of them.")
    # Stored, so the rank index (runs/0015) holds it and the leaderboard's reads stay index-only: PostgreSQL
    # will not answer `sample_ids IS NOT NULL` from an index on that expression without reading the table.
    partial = models.GeneratedField(expression=models.Q(sample_ids__isnull=False),
                                    output_field=models.BooleanField(), db_persist=True,
                                    help_text="Run on a subset of its sweep's items: ranked after every full run.")
    items_scored = models.PositiveIntegerField(null=True, blank=True,
                                               help_text="Items the run produced outputs for (set when it finishes).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    approval = models.CharField(max_length=10, choices=Approval.choices, default="", blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    calls = models.PositiveIntegerField(default=0)
    cache_hits = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    cost_estimate = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    weighted_score = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sweep", "config_hash"],
                condition=models.Q(sweep__isnull=False),
                name="run_unique_config_per_sweep",
            )
        ]
        # Every index slows a sweep's bulk insert of 10⁵ pending rows (docs/decisions.md): only what queries use.
        indexes = [
            models.Index(fields=["experiment", "status"]),
            models.Index(fields=["experiment", "-weighted_score"]),
            # Claims read (sweep, status, position); the totals after it make sweep_progress's aggregate index-only.
            models.Index(fields=["sweep", "status", "position", "calls", "cache_hits", "tokens_in", "tokens_out",
                                 "cost_estimate"], name="run_sweep_claim_totals"),
            # Only leased rows: the worker's start-up release of its dead drivers' runs reads them.
            models.Index(fields=["lease_owner"], condition=models.Q(status="running"), name="run_leased"),
        ]

    def __str__(self) -> str:
        return f"Run {str(self.id)[:8]}"


class StageResult(models.Model):
    """One LLM call's outcome: the output of one stage for one item and repeat."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="stage_results")
    item_id = models.CharField(max_length=200)
    repeat = models.PositiveSmallIntegerField(default=0)
    stage_index = models.PositiveSmallIntegerField()
    stage_name = models.CharField(max_length=100, blank=True)
    prompt_sent = models.JSONField(default=list, help_text="The rendered messages.")
    response_raw = models.TextField(blank=True)
    model_used = models.CharField(max_length=200)
    parameters = models.JSONField(default=dict)
    cache_key = models.CharField(max_length=64, blank=True)
    cached = models.BooleanField(default=False)
    finish_reason = models.CharField(max_length=40, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "repeat", "stage_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item_id", "repeat", "stage_index"], name="stage_result_unique_call"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id}#{self.repeat} stage {self.stage_index}"


class Score(models.Model):
    """A normalized [0, 1] score: per item and repeat, or per run when item_id is blank."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="scores")
    scorer_name = models.CharField(max_length=100)
    item_id = models.CharField(max_length=200, blank=True)
    repeat = models.PositiveSmallIntegerField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["run", "scorer_name"])]

    def __str__(self) -> str:
        return f"{self.scorer_name}={self.value}"


class ResponseCache(models.Model):
    """One cached LLM call, keyed by SHA-256 of exactly what was sent (see DESIGN.md), per owner."""

    key = models.CharField(max_length=64, primary_key=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        help_text="The user whose endpoint made the call; only their sweeps read or evict this entry.",
    )
    provider = models.CharField(max_length=20)
    base_url = models.CharField(max_length=500)
    model = models.CharField(max_length=200)
    response = models.TextField()
    finish_reason = models.CharField(max_length=40, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    prompt_chars = models.PositiveIntegerField(
        default=0, help_text="Characters of the messages sent (0: not recorded); calibrates token estimates.")
    latency_ms = models.PositiveIntegerField(default=0)
    origin_run = models.CharField(
        max_length=36, blank=True, help_text="The run whose call created this entry (counted once)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ResponseCacheManager()

    class Meta:
        indexes = [models.Index(fields=["model"]), models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return self.key[:12]


class ScoreSummary(models.Model):
    """Per run and scorer: mean, standard deviation, n and a 95% confidence interval over items × repeats."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="score_summaries")
    scorer_name = models.CharField(max_length=100)
    weight = models.FloatField(default=1.0)
    mean = models.FloatField(null=True, blank=True)
    std = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    errored = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "scorer_name"], name="one_summary_per_run_scorer")]
        indexes = [models.Index(fields=["scorer_name", "-mean"])]

    def __str__(self) -> str:
        return f"{self.scorer_name}: {self.mean}"
