"""Promotion: an approved offline run becomes a prompt version of a deployment, optionally A/B tested at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.deployments.models import AbTest, Deployment, PromptVersion
from apps.deployments.services.abtests import ab_test_create, ab_test_start
from apps.deployments.services.versions import version_content_hash, version_create
from apps.engine.templating import ITEM_FIELDS, TemplateError, template_variables
from apps.runs.models import Run

# What a gateway caller supplies to a user template: their last message, as `{{ input }}`.
GATEWAY_VARIABLES = frozenset({"input"})
_BARE_INPUT = {"{{ input }}", "{{input}}"}


def _stage(run: Run, stage: int | str | None) -> tuple[int, dict[str, Any]]:
    stages = (run.config or {}).get("stages") or []
    if not stages:
        raise InvalidInput.field("run", "This run has no pipeline stages to promote.")
    names = [str(s.get("name", f"stage{i + 1}")) for i, s in enumerate(stages)]
    if stage is None or stage == "":
        if len(stages) > 1:
            raise InvalidInput.field(
                "stage", f"This run has {len(stages)} stages; choose the one to promote: {', '.join(names)}.")
        return 0, stages[0]
    if isinstance(stage, int) and not isinstance(stage, bool) and 0 <= stage < len(stages):
        return stage, stages[stage]
    if isinstance(stage, str) and stage in names:
        return names.index(stage), stages[names.index(stage)]
    raise InvalidInput.field("stage", f"Choose a stage index (0–{len(stages) - 1}) or name: {', '.join(names)}.")


def _foreign_variables(*templates: str) -> list[str]:
    """Variables the templates read that a gateway request does not supply (item fields, earlier stages)."""
    names: set[str] = set()
    for template in templates:
        if template:
            try:
                names |= template_variables(template)
            except TemplateError:
                continue  # stored configs were validated when saved; a bad one is refused by version_create
    return sorted(names - GATEWAY_VARIABLES)


def _description(run: Run, index: int, stage: dict[str, Any], foreign: list[str]) -> str:
    text = f"Promoted from run {str(run.pk)[:8]} of '{run.experiment.name}', stage '{stage.get('name', index)}'."
    if foreign:
        items = [name for name in foreign if name in ITEM_FIELDS or name == "item"]
        text += (f" Its prompt reads {', '.join(foreign)}, which gateway requests do not supply"
                 " (they fill only {{ input }}, the caller's message)")
        text += f"; item fields: {', '.join(items)}." if items else "."
    return text[:500]


def _split(split: Sequence[int]) -> tuple[int, int]:
    if (not isinstance(split, list | tuple) or len(split) != 2
            or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in split)):
        raise InvalidInput.field("split", "Give two positive whole-number weights: control, then the new version.")
    return split[0], split[1]


def run_promote(
    *,
    run: Run,
    deployment: Deployment,
    stage: int | str | None = None,
    description: str = "",
    actor: str = "",
    start_ab_test: bool = False,
    ab_test_name: str = "",
    split: Sequence[int] = (50, 50),
    activate: bool = False,
) -> tuple[PromptVersion, AbTest | None]:
    """A version of `deployment` with the run's prompt, model and parameters (one stage of it).

    The run must be approved and its owner's deployment's. With `start_ab_test`, an A/B test of the active
    version (control) against the new one starts at once, weighted by `split`; with `activate` (instead),
    the new version becomes the active one. Either everything happens or nothing does.
    """
    if run.experiment.project.owner_id != deployment.owner_id:
        raise NotFound("No such deployment.")
    if run.approval != Run.Approval.APPROVED:
        raise Conflict("Only an approved run can be promoted: approve it first.")
    if start_ab_test and activate:
        raise InvalidInput.field("activate", "Either start an A/B test or activate the new version, not both.")
    index, chosen = _stage(run, stage)
    system_prompt = chosen.get("system_prompt") or ""
    template = chosen.get("prompt_template") or ""
    user_template = "" if template.strip() in _BARE_INPUT else template
    model, params = str(chosen.get("model") or ""), dict(chosen.get("params") or {})
    text = description or _description(run, index, chosen, _foreign_variables(system_prompt, template))
    weights = _split(split) if start_ab_test else None
    with transaction.atomic():
        control = None
        if start_ab_test:
            control = PromptVersion.objects.filter(deployment=deployment, is_active=True).first()
            if control is None:
                raise InvalidInput.field("start_ab_test", "This deployment has no active version to test against.")
            if control.content_hash == version_content_hash(system_prompt=system_prompt, user_template=user_template,
                                                            model=model, params=params):
                raise InvalidInput.field("start_ab_test", "The run's prompt is the active version already.")
        version, _ = version_create(
            deployment=deployment, system_prompt=system_prompt, user_template=user_template, description=text,
            created_by=actor, model=model, params=params, source_run=run, activate=activate,
            activate_reason="promotion",
        )
        if control is None or weights is None:
            return version, None
        ab_test = _ab_test_start(deployment=deployment, control=control, version=version, weights=weights,
                                 name=ab_test_name, actor=actor)
    return version, ab_test


def _ab_test_start(*, deployment: Deployment, control: PromptVersion, version: PromptVersion,
                   weights: tuple[int, int], name: str, actor: str) -> AbTest:
    ab_test = ab_test_create(
        deployment=deployment, name=name.strip() or f"v{control.number} vs v{version.number}",
        variants=[
            {"name": f"v{control.number} (control)", "version": control, "weight": weights[0]},
            {"name": f"v{version.number} (promoted)", "version": version, "weight": weights[1],
             "description": version.description},
        ],
        created_by=actor,
    )
    return ab_test_start(ab_test=ab_test, actor=actor)
