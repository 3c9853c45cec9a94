"""Which experiments name which endpoints (in a stage, a parameter-space value or a scorer's options),
and deleting an endpoint only when none does."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from apps.core.errors import Conflict, InvalidInput
from apps.core.ids import canonical_uuid
from apps.endpoints.models import Endpoint
from apps.engine.config import stored_endpoint_refs as endpoint_refs
from apps.experiments.models import Experiment

NAMED_IN_USE = 5


def experiments_using(*, endpoint: Endpoint) -> list[Experiment]:
    """The owner's experiments that name `endpoint` anywhere, by name."""
    needle = str(endpoint.pk)
    # A text match narrows the candidates in SQL; the walk below confirms each one.
    candidates = Experiment.objects.filter(project__owner_id=endpoint.owner_id).filter(
        Q(pipeline_stages__icontains=needle) | Q(parameter_space__icontains=needle)
        | Q(scoring_config__icontains=needle)
    ).only("id", "name", "pipeline_stages", "parameter_space", "scoring_config").order_by("name")
    return [
        experiment for experiment in candidates
        if any(canonical_uuid(ref) == needle for _, ref in endpoint_refs(
            pipeline_stages=experiment.pipeline_stages, parameter_space=experiment.parameter_space,
            scoring_config=experiment.scoring_config))
    ]


def missing_endpoints(*, pipeline_stages: Any, parameter_space: Any, scoring_config: Any) -> dict[str, list[str]]:
    """Errors keyed by field path for each endpoint named that no longer exists.

    Another user's endpoint (only possible by editing the database) is refused when the run executes.
    """
    refs = list(endpoint_refs(pipeline_stages=pipeline_stages, parameter_space=parameter_space,
                              scoring_config=scoring_config))
    ids = {canonical_uuid(ref) for _, ref in refs} - {None}
    existing = {str(pk) for pk in Endpoint.objects.filter(pk__in=ids).values_list("pk", flat=True)} if ids else set()
    return {
        path: [f"Endpoint {ref} no longer exists; choose another endpoint."]
        for path, ref in refs if canonical_uuid(ref) not in existing
    }


def endpoints_require(*, pipeline_stages: Any, parameter_space: Any, scoring_config: Any) -> None:
    """Refuse (InvalidInput keyed by field path) a configuration naming an endpoint that no longer exists."""
    missing = missing_endpoints(pipeline_stages=pipeline_stages, parameter_space=parameter_space,
                                scoring_config=scoring_config)
    if missing:
        raise InvalidInput(errors=missing)


def _in_use(names: list[str]) -> Conflict:
    """The endpoint is named by experiments; deleting it would break their next run."""
    count, named = len(names), names[:NAMED_IN_USE]
    listed = ", ".join(f'"{name}"' for name in named)
    more = f" and {count - len(named)} more" if count > len(named) else ""
    noun = "experiment" if count == 1 else "experiments"
    return Conflict(f"This endpoint is used by {count} {noun}: {listed}{more}. Point them at another endpoint first.",
                    extra={"experiments": named, "count": count})


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Delete an endpoint no experiment names (in a stage, a parameter-space value or a scorer)."""
    with transaction.atomic():
        users = experiments_using(endpoint=endpoint)
        if users:
            raise _in_use([experiment.name for experiment in users])
        endpoint.delete()
