"""Experiments: list, create, update and status (the REST API's /experiments)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from apps.core.errors import InvalidInput
from apps.experiments import selectors, services
from apps.experiments.secrets import scoring_config_masked
from apps.mcp.registry import Args, Call, ToolSpec
from apps.runs import summaries

LIST_LIMIT = 200
CONFIG_HELP = {
    "sample_data": "Items: {id, input (text or an object of template variables), reference?, expected?}.",
    "pipeline_stages": "Ordered stages: {name, endpoint (id), model, system_prompt?, prompt_template, params?}; "
                       "templates read {{ input }}, item variables and {{ stages.<name>.output }}.",
    "scoring_config": "{scorers: [{type, name?, weight?, options}]}; types include embedding_similarity, keyword, "
                      "length, format, llm_judge, human.",
    "parameter_space": "Axes: {path (e.g. stages.0.params.temperature, stages.0.model), values} or "
                       "{path, min, max, step}.",
}


class ExperimentSummary(BaseModel):
    id: str
    project_id: str
    name: str
    status: str
    run_count: int
    best_score: float | None


class ExperimentList(BaseModel):
    count: int
    experiments: list[ExperimentSummary]


class ExperimentOut(BaseModel):
    id: str
    project_id: str
    name: str
    description: str
    status: str
    sample_count: int
    pipeline_stages: list[dict[str, Any]]
    scoring_config: dict[str, Any]
    parameter_space: list[dict[str, Any]]
    repeats: int
    budget_tokens: int | None
    budget_usd: str | None


class SweepState(BaseModel):
    id: str
    kind: str
    status: str
    pause_reason: str
    runs_done: int
    runs_total: int
    pending: int
    in_flight: int
    calls: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: str
    eta_seconds: float | None


class TopRun(BaseModel):
    run_id: str
    status: str
    weighted_score: float | None


class ExperimentStatus(BaseModel):
    experiment_id: str
    name: str
    status: str
    runs_by_status: dict[str, int]
    sweep: SweepState | None
    top_runs: list[TopRun]


class ListExperimentsArgs(Args):
    project_id: uuid.UUID | None = Field(None, description="Only this project's experiments.")


class ExperimentFields(Args):
    """The config fields. Left out: unchanged. Only the budgets take null, which removes the budget (REST PATCH)."""

    # `Field(None)` on a non-nullable type: the default means "not sent", while an explicit null is refused.
    description: str = Field(None, max_length=20_000)
    sample_data: list[dict[str, Any]] = Field(None, description=CONFIG_HELP["sample_data"])
    pipeline_stages: list[dict[str, Any]] = Field(None, description=CONFIG_HELP["pipeline_stages"])
    scoring_config: dict[str, Any] = Field(None, description=CONFIG_HELP["scoring_config"])
    parameter_space: list[dict[str, Any]] = Field(None, description=CONFIG_HELP["parameter_space"])
    repeats: int = Field(None, ge=1, description="Each item is run this many times per configuration.")
    budget_tokens: int | None = Field(None, ge=1, description="Pause a sweep once it has spent this many tokens; "
                                                              "null removes the budget.")
    budget_usd: float | None = Field(None, gt=0, description="Pause a sweep once it has cost this much (USD); "
                                                             "null removes the budget.")

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, nulls included."""
        return {name: getattr(self, name) for name in self.model_fields_set
                if name not in ("project_id", "experiment_id")}


class CreateExperimentArgs(ExperimentFields):
    project_id: uuid.UUID
    name: str = Field(max_length=200)
    pipeline_stages: list[dict[str, Any]] = Field(description=CONFIG_HELP["pipeline_stages"])


class UpdateExperimentArgs(ExperimentFields):
    experiment_id: uuid.UUID
    name: str = Field(None, max_length=200)


class ExperimentIdArgs(Args):
    experiment_id: uuid.UUID


def experiment_out(experiment) -> ExperimentOut:
    return ExperimentOut(
        id=str(experiment.pk), project_id=str(experiment.project_id), name=experiment.name,
        description=experiment.description, status=experiment.status, sample_count=len(experiment.sample_data),
        pipeline_stages=experiment.pipeline_stages, scoring_config=scoring_config_masked(experiment.scoring_config),
        parameter_space=experiment.parameter_space, repeats=experiment.repeats, budget_tokens=experiment.budget_tokens,
        budget_usd=None if experiment.budget_usd is None else str(experiment.budget_usd),
    )


def list_experiments(call: Call, args: ListExperimentsArgs) -> ExperimentList:
    qs = summaries.experiment_summary_list(user=call.user, project_id=args.project_id).order_by("-updated_at")
    rows = [ExperimentSummary(id=str(e.pk), project_id=str(e.project_id), name=e.name, status=e.status,
                              run_count=e.run_count, best_score=e.best_score) for e in qs[:LIST_LIMIT]]
    return ExperimentList(count=qs.count(), experiments=rows)


def create_experiment(call: Call, args: CreateExperimentArgs) -> ExperimentOut:
    project = selectors.user_project(user=call.user, project_id=args.project_id)
    if project is None:
        raise InvalidInput(errors={"project_id": ["Unknown project."]})
    return experiment_out(services.experiment_create(user=call.user, project=project, data=args.given()))


def update_experiment(call: Call, args: UpdateExperimentArgs) -> ExperimentOut:
    experiment = selectors.experiment_get(user=call.user, experiment_id=args.experiment_id)
    return experiment_out(services.experiment_update(user=call.user, experiment=experiment, data=args.given(),
                                                     partial=True))


def get_experiment_status(call: Call, args: ExperimentIdArgs) -> ExperimentStatus:
    experiment = selectors.experiment_get(user=call.user, experiment_id=args.experiment_id)
    run_summary = summaries.experiment_run_summary(experiment=experiment)
    progress = summaries.sweep_progress(experiment=experiment)
    sweep = None
    if progress is not None:
        s = progress.sweep
        sweep = SweepState(
            id=str(s.pk), kind=s.kind, status=s.status, pause_reason=s.pause_reason, runs_done=progress.runs_done,
            runs_total=progress.runs_total, pending=progress.pending, in_flight=progress.in_flight,
            calls=progress.calls, cache_hits=progress.cache_hits, tokens_in=progress.tokens_in,
            tokens_out=progress.tokens_out, cost_usd=str(progress.cost),
            eta_seconds=progress.eta.total_seconds() if progress.eta is not None else None)
    return ExperimentStatus(
        experiment_id=str(experiment.pk), name=experiment.name, status=experiment.status,
        runs_by_status=dict(run_summary["by_status"]), sweep=sweep,
        top_runs=[TopRun(run_id=str(r.pk), status=r.status, weighted_score=r.weighted_score)
                  for r in run_summary["top"]])


TOOLS = [
    ToolSpec("list_experiments", "Your experiments (optionally of one project), most recently changed first.",
             ListExperimentsArgs, ExperimentList, list_experiments, read_only=True, idempotent=True),
    ToolSpec("create_experiment", "Create a draft experiment: sample items, pipeline stages, scorers and the "
             "parameter space to sweep. Errors name the field (e.g. pipeline_stages.0.prompt_template).",
             CreateExperimentArgs, ExperimentOut, create_experiment),
    ToolSpec("update_experiment", "Change the given fields of an experiment (others keep their values); the "
             "merged configuration is validated as a whole. budget_tokens or budget_usd null removes that budget. "
             "New scorers or weights re-score stored outputs.",
             UpdateExperimentArgs, ExperimentOut, update_experiment, destructive=True, idempotent=True),
    ToolSpec("get_experiment_status", "An experiment's status, its latest sweep's progress (runs, tokens, cost, "
             "cache hits, ETA) and its best runs so far.", ExperimentIdArgs, ExperimentStatus,
             get_experiment_status, read_only=True, idempotent=True),
]
