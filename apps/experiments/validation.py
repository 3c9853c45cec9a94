"""The Django side of experiment configuration: checks live in `apps.engine.config`; this adapter
supplies what they need from the database and settings, and maps their error to the service contract's InvalidInput.

Shapes (after normalization):

- ``name``: non-empty string ≤ 200; ``description``: string.
- ``sample_data``: a list (≤ max_items) of items ``{"id", "input", "reference"?, "expected"?,
  "vars"?}``. ``input`` is a string or an object; ``id`` a string or integer, unique, stored as a
  string and assigned "1", "2", … when missing; ``vars`` an object of extra template variables.
  A bare string is shorthand for ``{"input": s}``. An item's template variables are its ``id``,
  ``input``, ``reference`` and ``expected`` (when present), the keys of a dict ``input`` and the
  keys of ``vars``.
- ``pipeline_stages``: 1..max_stages of ``{"name", "endpoint", "model", "system_prompt",
  "prompt_template", "params"}``. ``name`` is identifier-like and unique (default "stage1", …);
  ``endpoint`` the id of one of the user's endpoints; ``params`` holds temperature [0, 2],
  top_p [0, 1], max_tokens (int ≥ 1), seed (int), presence_penalty / frequency_penalty [-2, 2],
  stop (string or list of strings), response_format (object) and any provider extra. Templates
  may read ``item``, a variable that every item has, and — after the first stage — ``previous``
  and ``stages.<earlier stage name>.output``. With no sample items, item variables are not checked.
- ``scoring_config``: ``{"scorers": [{"type", "name", "weight", "options"}]}``; ``type`` is one of
  ``KNOWN_SCORER_TYPES``, ``name`` a unique label (defaults to the type), ``weight`` ≥ 0 (default
  1, not all zero) and ``options`` an object the scorer interprets.
- ``parameter_space``: a list of axes ``{"path", "values": [...]}`` or ``{"path", "min", "max",
  "step"?, "distribution"?}`` (a step gives grid points; without one a range is sampled from its
  distribution — uniform (default), log_uniform or int). Paths: ``stages.<i>.model``, ``stages.<i>.endpoint``,
  ``stages.<i>.system_prompt``, ``stages.<i>.prompt_template``, ``stages.<i>.params.<name>`` (a
  known parameter or one the stage sets). Values are checked like the field they replace; a
  grid range expands to at most 10,000 values.
- ``repeats``: 1..100; ``budget_tokens``: integer ≥ 0 or null; ``budget_usd``: number ≥ 0 or null.
"""

from __future__ import annotations

import json

from apps.core.errors import InvalidInput
from apps.engine.config import (
    CONFIG_FIELDS,
    MAX_AXES,
    MAX_BIGINT,
    MAX_BUDGET_USD,
    MAX_REPEATS,
    ConfigInvalid,
    ExperimentSpec,
    config_check,
    config_path_target,
    experiment_spec_from_stored,
)
from apps.engine.scorers import scorer_types

KNOWN_SCORER_TYPES = scorer_types()
__all__ = [  # the limits are re-exported for the API's serializers
    "CONFIG_FIELDS", "KNOWN_SCORER_TYPES", "MAX_AXES", "MAX_BIGINT", "MAX_BUDGET_USD", "MAX_REPEATS",
    "config_path_target", "experiment_spec", "validate_experiment",
]


def validate_experiment(
    data: dict, *, endpoint_ids: set[str], max_items: int, max_stages: int, max_template_chars: int,
    allow_python: bool = False,
) -> dict:
    """Return the normalized CONFIG_FIELDS of `data` or raise InvalidInput with every error found.

    `allow_python`: the user may add admin-only scorers (Python scorers are on and they are an admin).
    """
    try:
        return config_check(data, endpoint_ids=endpoint_ids, max_items=max_items, max_stages=max_stages,
                            max_template_chars=max_template_chars, allow_admin_only=allow_python).fields
    except ConfigInvalid as exc:
        raise InvalidInput(errors=exc.errors) from None


def experiment_spec(experiment) -> ExperimentSpec:
    """The typed configuration of a stored experiment, cached on the instance until its JSON changes.

    Stored rows are read leniently (see apps.engine.config.stored): old data never makes a reader fail.
    """
    raw = (experiment.pipeline_stages, experiment.scoring_config, experiment.parameter_space)
    key = json.dumps(raw, sort_keys=True, default=str)
    cached = getattr(experiment, "_spec_cache", None)
    if cached is None or cached[0] != key:
        spec = experiment_spec_from_stored(pipeline_stages=raw[0], scoring_config=raw[1], parameter_space=raw[2])
        cached = experiment._spec_cache = (key, spec)
    return cached[1]
