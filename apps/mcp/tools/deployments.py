"""Deployments, prompt versions and A/B tests (the REST API's /deployments, /prompts and /runs/{id}/promote)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from apps.deployments.selectors import abtests as ab_selectors
from apps.deployments.selectors import deployments as selectors
from apps.deployments.services import abtests, promote, versions
from apps.deployments.services import deployments as services
from apps.mcp.registry import Args, Call, Strict, ToolSpec
from apps.runs.selectors import run_get

LIST_LIMIT = 200


class DeploymentOut(BaseModel):
    id: str
    name: str
    description: str
    endpoint_id: str
    model: str
    params: dict[str, Any]
    project_id: str | None
    auto_track: bool
    max_versions: int
    active_version_id: str | None
    active_version_number: int | None


class DeploymentList(BaseModel):
    count: int
    deployments: list[DeploymentOut]


class VersionOut(BaseModel):
    id: str
    deployment_id: str
    number: int
    system_prompt: str
    user_template: str
    model: str = Field(description="Overrides the deployment's model when set.")
    params: dict[str, Any]
    content_hash: str
    description: str
    created_by: str
    source_run_id: str | None
    is_active: bool
    created: bool = Field(True, description="False when identical content returned the existing version.")


class VersionList(BaseModel):
    count: int
    versions: list[VersionOut]


class VariantOut(BaseModel):
    id: str
    name: str
    version_id: str
    version_number: int
    weight: int
    is_control: bool


class AbTestOut(BaseModel):
    id: str
    deployment_id: str
    name: str
    status: str
    variants: list[VariantOut]
    success_criteria: dict[str, Any]
    alpha: float
    min_samples: int
    auto_complete: bool
    guardrails: dict[str, Any]
    winner_variant_id: str | None
    decision: dict[str, Any] = Field(description="Set on completion: what was activated (or not) and why.")


class PromoteOut(BaseModel):
    version: VersionOut
    ab_test: AbTestOut | None


class VariantMetrics(BaseModel):
    variant_id: str
    variant_name: str
    version_id: str
    version_number: int
    is_control: bool
    weight: int
    total_requests: int
    sessions: int = Field(description="Distinct sessions: the units the significance test counts.")
    successful_requests: int
    failed_requests: int
    success_rate: float
    avg_latency_ms: float | None
    avg_cost_usd: float | None
    total_cost_usd: float
    feedback_count: int
    feedback_rate: float | None
    helpful_rate: float | None
    diff: float | None = Field(description="Success rate minus control's, in points.")
    ci_low: float | None = Field(description="Always-valid confidence sequence for diff.")
    ci_high: float | None
    p_value: float | None = Field(description="Always-valid p-value: safe to check at any time.")
    p_adjusted: float | None = Field(None, description="p_value after Holm over the comparisons.")
    significant: bool
    ci_level: float | None = Field(None, description="The level the interval is drawn at: its Holm alpha.")
    direction: str | None = Field(None, description="better / worse, read from the interval (never from diff).")
    looks_disagree: bool = Field(False, description="Earlier looks excluded 0 on both sides: no conclusion.")


class AbTestDeleted(BaseModel):
    id: str
    name: str
    deleted: bool = True


class AbTestMetrics(BaseModel):
    ab_test_id: str
    status: str
    variants: list[VariantMetrics]


class ListDeploymentsArgs(Args):
    search: str = Field("", max_length=200, description="Only deployments whose name contains this text.")


class CreateDeploymentArgs(Args):
    name: str = Field(max_length=100)
    endpoint_id: uuid.UUID = Field(description="One of your endpoints: where the gateway forwards to.")
    model: str = Field(max_length=200)
    params: dict[str, Any] | None = Field(None, description="Inference parameters, e.g. {\"temperature\": 0.2}.")
    project_id: uuid.UUID | None = None
    description: str = Field("", max_length=10_000)
    auto_track: bool = Field(False, description="A gateway request with an unknown system prompt creates and "
                                                "activates a new version.")
    max_versions: int = Field(50, ge=1, le=1000)


class DeploymentIdArgs(Args):
    deployment_id: uuid.UUID


class CreateVersionArgs(Args):
    deployment_id: uuid.UUID
    system_prompt: str = Field(max_length=100_000)
    user_template: str = Field("", max_length=100_000, description="Optional; {{ input }} is the caller's message.")
    description: str = Field("", max_length=500)
    model: str = Field("", max_length=200, description="Overrides the deployment's model; empty inherits it.")
    params: dict[str, Any] | None = None
    activate: bool = Field(False, description="Make it the active version now.")


class VersionIdArgs(Args):
    version_id: uuid.UUID


class PromoteRunArgs(Args):
    run_id: uuid.UUID = Field(description="An approved run.")
    deployment_id: uuid.UUID
    stage: int | str | None = Field(None, description="Stage index or name; needed when the run has several.")
    description: str = Field("", max_length=500)
    activate: bool = Field(False, description="Make the new version active now.")
    start_ab_test: bool = Field(False, description="Instead, start an A/B test: the active version vs the new one.")
    ab_test_name: str = Field("", max_length=200)
    split: list[int] | None = Field(None, description="Weights [control, new]; default [50, 50].")


class VariantArgs(Strict):
    version_id: uuid.UUID
    name: str = Field("", max_length=100, description="Default: Control, Variant B, …")
    weight: int = Field(1, description="Share of the traffic (whole number).")
    description: str = Field("", max_length=500)


class CreateAbTestArgs(Args):
    deployment_id: uuid.UUID
    name: str = Field(max_length=200)
    variants: list[VariantArgs] = Field(description="2 or more versions of this deployment; the first is control.")
    success_criteria: dict[str, bool] | None = Field(
        None, description="require_non_empty, require_no_error (default true), require_helpful (default false).")
    alpha: float = 0.05
    min_samples: int = Field(100, description="Per variant, before a winner may be declared.")
    auto_complete: bool = False
    guardrails: dict[str, float | None] | None = Field(
        None, description="max_latency_increase_pct, max_cost_increase_pct (default 20 each; null: no limit).")


class AbTestIdArgs(Args):
    ab_test_id: uuid.UUID


def deployment_out(deployment, active=None) -> DeploymentOut:
    return DeploymentOut(
        id=str(deployment.pk), name=deployment.name, description=deployment.description,
        endpoint_id=str(deployment.endpoint_id), model=deployment.model, params=deployment.params or {},
        project_id=str(deployment.project_id) if deployment.project_id else None, auto_track=deployment.auto_track,
        max_versions=deployment.max_versions, active_version_id=str(active.pk) if active else None,
        active_version_number=active.number if active else None)


def version_out(version, *, created: bool = True) -> VersionOut:
    return VersionOut(
        id=str(version.pk), deployment_id=str(version.deployment_id), number=version.number,
        system_prompt=version.system_prompt, user_template=version.user_template, model=version.model,
        params=version.params or {}, content_hash=version.content_hash, description=version.description,
        created_by=version.created_by, source_run_id=str(version.source_run_id) if version.source_run_id else None,
        is_active=version.is_active, created=created)


def ab_test_out(ab_test) -> AbTestOut:
    variants = [VariantOut(id=str(v.pk), name=v.name, version_id=str(v.version_id), version_number=v.version.number,
                           weight=v.weight, is_control=v.is_control)
                for v in ab_test.variants.select_related("version").order_by("position")]
    return AbTestOut(
        id=str(ab_test.pk), deployment_id=str(ab_test.deployment_id), name=ab_test.name, status=ab_test.status,
        variants=variants, success_criteria=ab_test.success_criteria or {}, alpha=ab_test.alpha,
        min_samples=ab_test.min_samples, auto_complete=ab_test.auto_complete, guardrails=ab_test.guardrails or {},
        winner_variant_id=str(ab_test.winner_id) if ab_test.winner_id else None, decision=ab_test.decision or {})


def list_deployments(call: Call, args: ListDeploymentsArgs) -> DeploymentList:
    qs = selectors.deployments_for(user=call.user)
    if args.search:
        qs = qs.filter(name__icontains=args.search)
    rows = [deployment_out(row.deployment, row.active)
            for row in selectors.deployment_rows(deployments=list(qs[:LIST_LIMIT]))]
    return DeploymentList(count=qs.count(), deployments=rows)


def create_deployment(call: Call, args: CreateDeploymentArgs) -> DeploymentOut:
    deployment = services.deployment_create(
        owner=call.user, name=args.name, endpoint=args.endpoint_id, model=args.model, params=args.params,
        project=args.project_id, description=args.description, auto_track=args.auto_track,
        max_versions=args.max_versions)
    return deployment_out(deployment)


def create_prompt_version(call: Call, args: CreateVersionArgs) -> VersionOut:
    deployment = selectors.deployment_get(user=call.user, deployment_id=args.deployment_id)
    version, created = versions.version_create(
        deployment=deployment, system_prompt=args.system_prompt, user_template=args.user_template,
        description=args.description, created_by=call.user.username, model=args.model, params=args.params,
        activate=args.activate)
    return version_out(version, created=created)


def list_prompt_versions(call: Call, args: DeploymentIdArgs) -> VersionList:
    deployment = selectors.deployment_get(user=call.user, deployment_id=args.deployment_id)
    qs = selectors.versions_for(deployment=deployment)
    return VersionList(count=qs.count(), versions=[version_out(v) for v in qs[:LIST_LIMIT]])


def activate_prompt_version(call: Call, args: VersionIdArgs) -> VersionOut:
    version = selectors.version_get(user=call.user, version_id=args.version_id)
    return version_out(versions.version_activate(version=version, actor=call.user.username))


def promote_run(call: Call, args: PromoteRunArgs) -> PromoteOut:
    run = run_get(user=call.user, run_id=args.run_id, outputs=False)
    deployment = selectors.deployment_get(user=call.user, deployment_id=args.deployment_id)
    options = {"split": tuple(args.split)} if args.split is not None else {}
    version, ab_test = promote.run_promote(
        run=run, deployment=deployment, stage=args.stage, description=args.description, actor=call.user.username,
        activate=args.activate, start_ab_test=args.start_ab_test, ab_test_name=args.ab_test_name, **options)
    return PromoteOut(version=version_out(version), ab_test=ab_test_out(ab_test) if ab_test else None)


def create_ab_test(call: Call, args: CreateAbTestArgs) -> AbTestOut:
    deployment = selectors.deployment_get(user=call.user, deployment_id=args.deployment_id)
    ab_test = abtests.ab_test_create(
        deployment=deployment, name=args.name, success_criteria=args.success_criteria, alpha=args.alpha,
        min_samples=args.min_samples, auto_complete=args.auto_complete, guardrails=args.guardrails,
        created_by=call.user.username,
        variants=[{"name": v.name, "version": v.version_id, "weight": v.weight, "description": v.description}
                  for v in args.variants])
    return ab_test_out(ab_test)


def _transition(service):
    def tool(call: Call, args: AbTestIdArgs) -> AbTestOut:
        ab_test = ab_selectors.ab_test_get(user=call.user, ab_test_id=args.ab_test_id)
        return ab_test_out(service(ab_test=ab_test, actor=call.user.username))

    return tool


def delete_ab_test(call: Call, args: AbTestIdArgs) -> AbTestDeleted:
    ab_test = ab_selectors.ab_test_get(user=call.user, ab_test_id=args.ab_test_id)
    abtests.ab_test_delete(ab_test=ab_test)
    return AbTestDeleted(id=str(args.ab_test_id), name=ab_test.name)


def ab_test_metrics(call: Call, args: AbTestIdArgs) -> AbTestMetrics:
    ab_test = ab_selectors.ab_test_get(user=call.user, ab_test_id=args.ab_test_id)
    rows = ab_selectors.ab_test_metrics(ab_test=ab_test)
    return AbTestMetrics(ab_test_id=str(ab_test.pk), status=ab_test.status,
                         variants=[VariantMetrics(**row) for row in rows])


TOOLS = [
    ToolSpec("list_deployments", "Your deployments (named gateway consumers of a prompt), with each one's active "
             "prompt version.", ListDeploymentsArgs, DeploymentList, list_deployments, read_only=True,
             idempotent=True),
    ToolSpec("create_deployment", "Create a deployment: the endpoint and model the gateway (/gateway/v1) forwards "
             "to; create a key for it in the web app or REST API.", CreateDeploymentArgs, DeploymentOut,
             create_deployment),
    ToolSpec("create_prompt_version", "Add a prompt version to a deployment; identical content returns the "
             "existing version (created: false). A deployment's first version becomes active.",
             CreateVersionArgs, VersionOut, create_prompt_version, destructive=True, idempotent=True),
    ToolSpec("list_prompt_versions", "A deployment's prompt versions, newest first.", DeploymentIdArgs, VersionList,
             list_prompt_versions, read_only=True, idempotent=True),
    ToolSpec("activate_prompt_version", "Make a version its deployment's active one (the gateway serves it from the "
             "next request).", VersionIdArgs, VersionOut, activate_prompt_version, idempotent=True),
    ToolSpec("promote_run", "Promote an approved run's prompt, model and parameters into a version of a deployment; "
             "optionally activate it or start an A/B test against the active version.", PromoteRunArgs, PromoteOut,
             promote_run, destructive=True),  # a new version prunes the oldest inactive ones
    ToolSpec("create_ab_test", "Create a draft A/B test over 2+ versions of a deployment (first = control).",
             CreateAbTestArgs, AbTestOut, create_ab_test),
    ToolSpec("start_ab_test", "Start (or resume) routing traffic to an A/B test's variants.", AbTestIdArgs,
             AbTestOut, _transition(abtests.ab_test_start), idempotent=True),
    ToolSpec("pause_ab_test", "Pause an A/B test: the active version serves all traffic; metrics are kept.",
             AbTestIdArgs, AbTestOut, _transition(abtests.ab_test_pause), idempotent=True),
    ToolSpec("complete_ab_test", "Complete an A/B test: activates the winner only if significantly better than "
             "control and within the latency/cost guardrails; `decision` says what and why.", AbTestIdArgs,
             AbTestOut, _transition(abtests.ab_test_complete), destructive=True, idempotent=True),
    ToolSpec("delete_ab_test", "Delete an A/B test that is not running (pause or complete it first) with its "
             "variants; its gateway requests stay, no longer tied to a test, and its versions stay.", AbTestIdArgs,
             AbTestDeleted, delete_ab_test, destructive=True, idempotent=True),  # a repeat is not found
    ToolSpec("ab_test_metrics", "Per-variant requests, success rate, latency, cost and feedback, with each "
             "variant's difference from control, an always-valid confidence interval and p-value.", AbTestIdArgs,
             AbTestMetrics, ab_test_metrics, read_only=True, idempotent=True),
]
