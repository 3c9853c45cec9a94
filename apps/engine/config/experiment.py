"""Check a whole experiment configuration: every section, every error found, keyed by dotted path.

The caller supplies what only the database knows (the owner's endpoint ids, whether admin-only
scorers are allowed) as plain arguments; nothing here touches the ORM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from apps.engine.config.data import DataChecks, ItemNames
from apps.engine.config.errors import ConfigInvalid, FieldErrors
from apps.engine.config.scorers import ScorerChecks, scoring_spec
from apps.engine.config.space import SpaceChecks, axis_spec
from apps.engine.config.specs import ExperimentSpec
from apps.engine.config.stages import StageChecks, stage_spec

CONFIG_FIELDS = (
    "name", "description", "sample_data", "pipeline_stages", "scoring_config", "parameter_space",
    "repeats", "budget_tokens", "budget_usd",
)
MAX_REPEATS = 100
MAX_DESCRIPTION = 20_000
MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class ValidConfig:
    fields: dict[str, Any]  # normalized, ready to store
    spec: ExperimentSpec


class _Checker(StageChecks, ScorerChecks, SpaceChecks, DataChecks):
    def __init__(self, *, endpoint_ids: set[str], max_items: int, max_stages: int, max_template_chars: int,
                 allow_admin_only: bool) -> None:
        self.endpoint_ids = {str(e) for e in endpoint_ids}
        self.allow_admin_only = allow_admin_only
        self.max_items = max_items
        self.max_stages = max_stages
        self.max_chars = max_template_chars
        self.errors = FieldErrors()
        self.items = ItemNames(None)
        self.stages = []


def _non_finite(data: dict) -> list[str]:
    """Paths of NaN/Infinity floats: Python's JSON accepts them, Postgres' jsonb does not."""
    found, stack = [], [(data.get(field), field) for field in CONFIG_FIELDS]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found.append(path)
        elif isinstance(value, dict):
            stack.extend((child, f"{path}.{key}") for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, f"{path}.{i}") for i, child in enumerate(value))
    return found


def config_check(
    data: Any, *, endpoint_ids: set[str], max_items: int, max_stages: int, max_template_chars: int,
    allow_admin_only: bool = False,
) -> ValidConfig:
    """The normalized CONFIG_FIELDS of `data` and their typed spec, or ConfigInvalid with every error."""
    if not isinstance(data, dict):
        raise ConfigInvalid({"non_field_errors": ["Expected an object."]})
    check = _Checker(endpoint_ids=endpoint_ids, max_items=max_items, max_stages=max_stages,
                     max_template_chars=max_template_chars, allow_admin_only=allow_admin_only)
    out = {
        "name": check.text("name", data.get("name"), required=True, limit=200),
        "description": check.text("description", data.get("description"), required=False, limit=MAX_DESCRIPTION),
        "sample_data": check.sample_data(data.get("sample_data", [])),
        "pipeline_stages": check.pipeline_stages(data.get("pipeline_stages")),
        "scoring_config": check.scoring_config(data.get("scoring_config")),
        "repeats": check.integer("repeats", data.get("repeats", 1), low=1, high=MAX_REPEATS, nullable=False),
        "budget_tokens": check.integer("budget_tokens", data.get("budget_tokens"), low=0, high=MAX_BIGINT,
                                       nullable=True),
        "budget_usd": check.budget_usd(data.get("budget_usd")),
    }
    out["parameter_space"] = check.parameter_space(data.get("parameter_space"))
    for path in _non_finite(data):
        check.errors.add(path, "Must be a finite number (NaN and Infinity are not valid JSON).")
    if check.errors:
        raise ConfigInvalid(dict(check.errors))
    spec = ExperimentSpec(stages=tuple(stage_spec(s) for s in out["pipeline_stages"]),
                          scoring=scoring_spec(out["scoring_config"]),
                          space=tuple(axis_spec(a) for a in out["parameter_space"]))
    return ValidConfig(fields=out, spec=spec)
