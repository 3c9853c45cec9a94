"""Which experiments name which endpoints: in a stage, a parameter-space value or a scorer's options."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment


def endpoint_refs(*, pipeline_stages: Any, parameter_space: Any, scoring_config: Any) -> Iterator[tuple[str, str]]:
    """(field path, endpoint id) for every endpoint a stored experiment names, whatever its shape."""
    for index, stage in enumerate(_dicts(pipeline_stages)):
        if stage.get("endpoint"):
            yield f"pipeline_stages.{index}.endpoint", str(stage["endpoint"])
    for index, axis in enumerate(_dicts(parameter_space)):
        if str(axis.get("path", "")).endswith(".endpoint") and isinstance(axis.get("values"), list):
            for position, value in enumerate(axis["values"]):
                if value:
                    yield f"parameter_space.{index}.values.{position}", str(value)
    scorers = scoring_config.get("scorers") if isinstance(scoring_config, dict) else None
    for index, scorer in enumerate(_dicts(scorers)):
        options = scorer.get("options")
        if isinstance(options, dict) and options.get("endpoint"):
            yield f"scoring_config.scorers.{index}.options.endpoint", str(options["endpoint"])


def _dicts(value: Any) -> list[dict]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


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
        if any(_canonical(ref) == needle for _, ref in endpoint_refs(
            pipeline_stages=experiment.pipeline_stages, parameter_space=experiment.parameter_space,
            scoring_config=experiment.scoring_config))
    ]


def missing_endpoints(*, pipeline_stages: Any, parameter_space: Any, scoring_config: Any) -> dict[str, list[str]]:
    """Errors keyed by field path for each endpoint named that no longer exists.

    Another user's endpoint (only possible by editing the database) is refused when the run executes.
    """
    refs = list(endpoint_refs(pipeline_stages=pipeline_stages, parameter_space=parameter_space,
                              scoring_config=scoring_config))
    ids = {_canonical(ref) for _, ref in refs} - {None}
    existing = {str(pk) for pk in Endpoint.objects.filter(pk__in=ids).values_list("pk", flat=True)} if ids else set()
    return {
        path: [f"Endpoint {ref} no longer exists; choose another endpoint."]
        for path, ref in refs if _canonical(ref) not in existing
    }


def _canonical(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
