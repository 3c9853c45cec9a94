from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.engine.planners import PLANNERS, redirect_kinds
from apps.experiments.secrets import point_endpoints_masked, space_endpoints_masked
from apps.experiments.validation import MAX_BIGINT
from apps.runs.label_reports import RunLabelReport, run_label_reports
from apps.runs.masking import endpoints_hidden, run_config_masked, text_endpoints_masked
from apps.runs.models import Run, Score, StageResult, Sweep
from apps.runs.services.budget import OVER_BUDGET

SWEEP_TYPES = list(PLANNERS.kinds())


class SweepInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=SWEEP_TYPES, default="grid")
    n = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    seed = serializers.IntegerField(min_value=-MAX_BIGINT - 1, max_value=MAX_BIGINT, required=False,
                                    allow_null=True, default=None)
    repeats = serializers.IntegerField(min_value=1, max_value=100, required=False)
    sample_ids = serializers.ListField(child=serializers.CharField(max_length=200), required=False,
                                       allow_null=True, default=None, max_length=100_000)
    parameter_space = serializers.ListField(child=serializers.DictField(), required=False, allow_null=True,
                                            default=None, max_length=50)
    budget_tokens = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, required=False, allow_null=True,
                                             default=None)
    budget_usd = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False,
                                          allow_null=True, default=None)
    dry_run = serializers.BooleanField(default=False)
    over_budget = serializers.ChoiceField(
        choices=OVER_BUDGET, default="pause",
        help_text="pause: start, and pause when a budget is reached; refuse: refuse to start a sweep whose "
                  "estimate exceeds its budget, saying by how much (docs/estimates.md).")
    batch = serializers.IntegerField(min_value=1, max_value=256, required=False,
                                     help_text="Guided sweeps: configurations planned per round (default 4).")
    options = serializers.DictField(required=False, default=dict,
                                    help_text="The sweep type's own options (docs/planners.md), e.g. tpe's "
                                              "n_startup_trials; errors name options.<name>.")

    def validate(self, data):
        planner = PLANNERS.get(data["type"])
        if planner.needs_n and not data.get("n"):
            raise serializers.ValidationError({"n": [f"A {data['type']} sweep needs n, the number of configurations."]})
        return data


class RedirectInput(serializers.Serializer):
    parameter_space = serializers.ListField(child=serializers.DictField(), max_length=50)
    type = serializers.ChoiceField(choices=redirect_kinds(), required=False)
    n = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    seed = serializers.IntegerField(min_value=-MAX_BIGINT - 1, max_value=MAX_BIGINT, required=False, allow_null=True)


class ForkInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    parameter_space = serializers.ListField(child=serializers.DictField(), max_length=50, default=list)


class AdhocRunInput(serializers.Serializer):
    experiment = serializers.UUIDField()
    point = serializers.DictField(required=False, default=dict, help_text="Parameter values by path.")
    pipeline_stages = serializers.ListField(child=serializers.DictField(), required=False, allow_null=True,
                                            default=None, max_length=20)
    input = serializers.ListField(required=False, allow_null=True, default=None, max_length=1000,
                                  help_text="Inline sample items instead of the experiment's.")
    repeats = serializers.IntegerField(min_value=1, max_value=100, required=False)


class _OwnerOnlyEndpoints:
    """Pass the reader as context["viewer"]; anyone else than the owner gets endpoint ids as None."""

    def endpoints_hidden(self, instance) -> bool:
        return endpoints_hidden(viewer=self.context.get("viewer"), owner_id=instance.experiment.project.owner_id)


class SweepOutput(_OwnerOnlyEndpoints, serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Sweep
        fields = ["id", "experiment", "kind", "status", "pause_reason", "seed", "repeats", "runs_total", "runs_done",
                  "calls_total", "cache_hits", "tokens_in", "tokens_out", "cost_usd", "progress", "created_at",
                  "started_at", "finished_at", "parameter_space"]

    def get_progress(self, sweep: Sweep) -> float:
        return round(sweep.runs_done / sweep.runs_total, 4) if sweep.runs_total else 0.0

    def to_representation(self, sweep: Sweep) -> dict:
        data = super().to_representation(sweep)
        if self.endpoints_hidden(sweep):
            data["parameter_space"] = space_endpoints_masked(data["parameter_space"])
            data["pause_reason"] = text_endpoints_masked(data["pause_reason"])
        return data


class ActiveSweepOutput(SweepOutput):
    experiment_name = serializers.CharField(source="experiment.name", read_only=True)
    project_name = serializers.CharField(source="experiment.project.name", read_only=True)

    class Meta(SweepOutput.Meta):
        fields = [*SweepOutput.Meta.fields, "experiment_name", "project_name"]


class RunListOutput(_OwnerOnlyEndpoints, serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = ["id", "sweep", "position", "point", "config_hash", "status", "approval", "weighted_score",
                  "calls", "cache_hits", "tokens_in", "tokens_out", "cost_estimate", "duration_ms", "attempts",
                  "error", "started_at", "completed_at"]

    def to_representation(self, run: Run) -> dict:
        data = super().to_representation(run)
        if self.endpoints_hidden(run):
            data["point"] = point_endpoints_masked(data["point"])
            data["error"] = text_endpoints_masked(data["error"])
            if "config" in data:
                data["config"] = run_config_masked(data["config"])
        return data


class StageResultOutput(serializers.ModelSerializer):
    class Meta:
        model = StageResult
        fields = ["item_id", "repeat", "stage_index", "stage_name", "prompt_sent", "response_raw", "model_used",
                  "parameters", "cached", "finish_reason", "tokens_in", "tokens_out", "latency_ms", "error"]


class ScoreOutput(serializers.ModelSerializer):
    class Meta:
        model = Score
        fields = ["scorer_name", "item_id", "repeat", "value", "error", "metadata", "created_at"]


class LabelStatsOutput(serializers.Serializer):
    label = serializers.CharField()
    precision = serializers.FloatField(allow_null=True, help_text="Null: nothing was predicted as this label.")
    recall = serializers.FloatField(allow_null=True, help_text="Null: no item expects this label.")
    f1 = serializers.FloatField(allow_null=True)
    support = serializers.IntegerField(help_text="Items that expect this label.")
    predicted = serializers.IntegerField(help_text="Items predicted as this label.")


class ConfusionRowOutput(serializers.Serializer):
    expected = serializers.CharField()
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="Per column of `columns`.")


class LabelReportOutput(serializers.Serializer):
    scorer = serializers.CharField()
    n = serializers.IntegerField(help_text="Scored items (and repeats) with an expected label.")
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    macro_f1 = serializers.FloatField(allow_null=True)
    errored = serializers.IntegerField(help_text="Items the scorer could not score.")
    labels = LabelStatsOutput(many=True)
    columns = serializers.ListField(child=serializers.CharField(),
                                    help_text='Predicted labels, then "(other)" when an output named none.')
    matrix = ConfusionRowOutput(many=True, help_text="The confusion matrix: one row per expected label.")


def label_report_json(entry: RunLabelReport) -> dict:
    report = entry.report
    return {
        "scorer": entry.scorer_name, "n": report.n, "correct": report.correct, "accuracy": report.accuracy,
        "macro_f1": report.macro_f1, "errored": entry.errored,
        "labels": [{"label": s.label, "precision": s.precision, "recall": s.recall, "f1": s.f1,
                    "support": s.support, "predicted": s.predicted} for s in report.labels],
        "columns": list(report.columns),
        "matrix": [{"expected": label, "counts": list(counts)} for label, counts in report.matrix],
    }


class RunDetailOutput(RunListOutput):
    stage_results = StageResultOutput(many=True, read_only=True)
    scores = ScoreOutput(many=True, read_only=True)
    label_reports = serializers.SerializerMethodField(
        help_text="Per classification scorer: accuracy, per-label precision/recall/F1 and the confusion matrix "
                  "(docs/scorers.md); empty without one.")

    class Meta(RunListOutput.Meta):
        fields = [*RunListOutput.Meta.fields, "experiment", "config", "items_scored", "stage_results", "scores",
                  "label_reports"]

    @extend_schema_field(LabelReportOutput(many=True))
    def get_label_reports(self, run: Run) -> list[dict]:
        return [label_report_json(entry) for entry in run_label_reports(run=run)]


class SweepStartedOutput(serializers.Serializer):
    sweep = SweepOutput()
    note = serializers.CharField(
        help_text="What the planner changed about the request (e.g. a trimmed grid); may be empty."
    )


class TokenRangeOutput(serializers.Serializer):
    low = serializers.IntegerField()
    expected = serializers.IntegerField()
    high = serializers.IntegerField()


class CostRangeOutput(serializers.Serializer):
    low = serializers.FloatField()
    expected = serializers.FloatField()
    high = serializers.FloatField()


class CalibrationOutput(serializers.Serializer):
    endpoint = serializers.CharField()
    model = serializers.CharField()
    source = serializers.ChoiceField(choices=["history", "heuristic"])
    calls = serializers.IntegerField(help_text="Cached calls the numbers come from.")
    chars_per_token = serializers.FloatField(allow_null=True)
    output_tokens_mean = serializers.FloatField(allow_null=True)
    output_tokens_p90 = serializers.FloatField(allow_null=True)


class CallRangeOutput(serializers.Serializer):
    low = serializers.IntegerField()
    high = serializers.IntegerField()


class PlannerSpendOutput(serializers.Serializer):
    calls = CallRangeOutput()
    tokens = TokenRangeOutput()
    cost_usd_range = CostRangeOutput()


class PlanEstimateOutput(serializers.Serializer):
    runs = serializers.IntegerField()
    calls = serializers.IntegerField()
    cached_calls = serializers.IntegerField(help_text="Calls the cache already answers: free.")
    uncached_calls = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_usd = serializers.FloatField(help_text="Expected; the ranges below bound it.")
    tokens = TokenRangeOutput(help_text="Tokens in + out: low, expected, high.")
    tokens_in_range = TokenRangeOutput()
    tokens_out_range = TokenRangeOutput(help_text="High: max_tokens per call (or a guess without it).")
    cost_usd_range = CostRangeOutput()
    calibration = CalibrationOutput(many=True, help_text="Per endpoint and model: history from the response "
                                                         "cache, or the chars/4 heuristic.")
    adaptive = serializers.BooleanField(help_text="An adaptive sweep (tpe, halving, prompt_search, agent, guided): "
                                                  "runs and calls are the most it may make; docs/estimates.md.")
    runs_range = CallRangeOutput(allow_null=True, help_text="Adaptive sweeps: the runs at least and at most.")
    calls_range = CallRangeOutput(allow_null=True, help_text="Adaptive sweeps: the stage calls at least and at most.")
    planner = PlannerSpendOutput(allow_null=True, help_text="The planner's own LLM calls (a proposer's, an agent's), "
                                                            "included in the totals; null for other sweeps.")


class BudgetFitOutput(serializers.Serializer):
    tokens = serializers.IntegerField(allow_null=True, help_text="The token limit that applies, if any.")
    usd = serializers.FloatField(allow_null=True)
    fits = serializers.BooleanField(help_text="The expected spend is within every budget.")
    short_tokens = serializers.IntegerField()
    short_usd = serializers.FloatField()
    message = serializers.CharField(allow_blank=True)


class DryRunOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    runs = serializers.IntegerField()
    calls = serializers.IntegerField()
    note = serializers.CharField()
    points = serializers.ListField(child=serializers.DictField(), help_text="The first 100 planned points.")
    estimate = PlanEstimateOutput()
    budget = BudgetFitOutput()


class RedirectOutput(serializers.Serializer):
    sweep = SweepOutput()
    removed_runs = serializers.IntegerField(help_text="Pending runs dropped from the sweep.")
    added_runs = serializers.IntegerField(help_text="Runs planned from the new parameter space.")


class ForkOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The new experiment.")
    name = serializers.CharField()
    project = serializers.UUIDField()
    pipeline_stages = serializers.ListField(child=serializers.DictField())
    parameter_space = serializers.ListField(child=serializers.DictField())


class CacheClearedOutput(serializers.Serializer):
    deleted_entries = serializers.IntegerField()
