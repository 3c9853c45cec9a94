"""An experiment's configuration: checked once, by section, into typed specs (see specs.py).

`config_check` validates input for saving; `experiment_spec_from_stored` reads a stored row
without ever raising. No ORM here: the Django side passes in what needs the database.
"""

from apps.engine.config.errors import ConfigInvalid
from apps.engine.config.experiment import CONFIG_FIELDS, MAX_BIGINT, MAX_REPEATS, ValidConfig, config_check
from apps.engine.config.fields import MAX_BUDGET_USD
from apps.engine.config.space import MAX_AXES, config_path_target
from apps.engine.config.specs import (
    AxisSpec,
    ExperimentSpec,
    ScorerSpec,
    ScoringSpec,
    StageSpec,
    space_endpoint_ids,
    stage_endpoint_ids,
)
from apps.engine.config.stored import (
    experiment_spec_from_stored,
    stored_endpoint_refs,
    stored_scoring,
    stored_space,
    stored_stages,
)

__all__ = [
    "CONFIG_FIELDS", "MAX_AXES", "MAX_BIGINT", "MAX_BUDGET_USD", "MAX_REPEATS", "AxisSpec", "ConfigInvalid",
    "ExperimentSpec", "ScorerSpec", "ScoringSpec", "StageSpec", "ValidConfig", "config_check",
    "config_path_target", "experiment_spec_from_stored", "space_endpoint_ids", "stage_endpoint_ids",
    "stored_endpoint_refs", "stored_scoring", "stored_space", "stored_stages",
]
