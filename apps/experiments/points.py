"""A point (values by config path, e.g. ``stages.0.params.temperature``) applied to a pipeline.

What a run executes is the pipeline with the point applied, so the result is validated as a whole
(see services.experiment_point_validate); these helpers apply the point, refuse paths no axis
could name, and key the validator's errors by the point's paths.
"""

from __future__ import annotations

from typing import Any

from apps.core.errors import InvalidInput
from apps.engine.config import config_path_target
from apps.engine.config_paths import ConfigPathError, apply_point, get_path

_STAGES_PREFIX = "pipeline_stages."


def point_apply(point: Any, stages: Any) -> tuple[dict[str, Any], Any]:
    """(the point keyed by canonical paths, the stages with its values set), or InvalidInput."""
    if not isinstance(point, dict):
        raise InvalidInput(errors={"point": ["Must be an object of values by path."]})
    if not point or not isinstance(stages, list):
        return dict(point), stages  # nothing to set, or the validator reports the stages themselves
    errors: dict[str, list[str]] = {}
    canonical: dict[str, Any] = {}
    for path, value in point.items():
        target, problem = config_path_target(path, stages)
        if target and target[0] in canonical:
            problem = f"The point sets {target[0]} twice."
        if problem:
            errors.setdefault(f"point.{path}", []).append(problem)
        else:
            canonical[target[0]] = value
    if not errors:
        try:
            stages = apply_point({"stages": stages}, canonical)["stages"]
        except ConfigPathError as exc:
            errors["point"] = [f"Cannot apply the point to these stages: {exc}"]
    if errors:
        raise InvalidInput(errors=errors)
    return canonical, stages


def point_blame(errors: dict[str, list[str]], point: dict[str, Any]) -> dict[str, list[str]]:
    """The validator's errors, with those inside a value the point set keyed `point.<path>`."""
    blamed: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key.startswith(_STAGES_PREFIX):
            config_key = "stages." + key.removeprefix(_STAGES_PREFIX)
            if any(config_key == path or config_key.startswith(path + ".") for path in point):
                key = f"point.{config_key}"
        blamed.setdefault(key, []).extend(messages)
    return blamed


def point_values(point: dict[str, Any], stages: list[dict]) -> dict[str, Any]:
    """The point's values as the validator normalized them in `stages`."""
    return {path: get_path({"stages": stages}, path) for path in point}
