"""Parameter-space checks: axes, their values and ranges, and the config paths they may set.

Each axis value goes through the same field check (`endpoint`, `model`, `param`, `template`) as the
stage field it sets, so a value swept in is held to the same rule.
"""

from __future__ import annotations

import re
from typing import Any

from apps.engine import params as P
from apps.engine.config.fields import FieldChecks
from apps.engine.config.specs import AxisSpec

MAX_AXES = 50
AXIS_KEYS = {"path", "values", "min", "max", "step", "distribution"}
_AXIS_PATH = re.compile(r"^stages\.([0-9]{1,6})\.(model|endpoint|system_prompt|prompt_template|params\.(.+))$")


def axis_spec(axis: dict) -> AxisSpec:
    """The typed form of a normalized axis (a stored one may lack any key)."""
    values = axis.get("values")
    return AxisSpec(path=str(axis.get("path", "")), values=tuple(values) if isinstance(values, list) else None,
                    min=axis.get("min"), max=axis.get("max"), step=axis.get("step"),
                    distribution=axis.get("distribution"))


class SpaceChecks(FieldChecks):
    """Mixed into the experiment checker after StageChecks, whose `template` check prompt values use."""

    max_chars: int
    stages: list[dict | None]

    def parameter_space(self, raw: Any) -> list[dict]:
        if raw is None:
            return []
        if not isinstance(raw, list) or len(raw) > MAX_AXES:
            self.errors.add("parameter_space", f"Must be a list of at most {MAX_AXES} axes.")
            return []
        axes, seen = [], set()
        for index, entry in enumerate(raw):
            axis = self.axis(f"parameter_space.{index}", entry)
            if axis and axis["path"] in seen:
                self.errors.add(f"parameter_space.{index}.path", f"Duplicate path '{axis['path']}'.")
            elif axis:
                seen.add(axis["path"])
            axes.append(axis)
        return axes

    def axis(self, path: str, raw: Any) -> dict | None:
        if not isinstance(raw, dict):
            self.errors.add(path, "Each axis must be an object with a path.")
            return None
        before = self.errors.total
        self.unknown_keys(path, raw, AXIS_KEYS)
        target = self.axis_target(f"{path}.path", raw.get("path"))
        ranged = [key for key in ("min", "max", "step", "distribution") if key in raw]
        if "values" in raw and ranged:
            self.errors.add(path, "Give either 'values' or a range (min/max), not both.")
        elif "values" not in raw and not ranged:
            self.errors.add(path, "Give 'values' or a range ('min', 'max' and 'step' or 'distribution').")
        if target is None or self.errors.total > before:
            return None
        axis_path, index, field = target
        if "values" in raw:
            values = self.axis_values(f"{path}.values", raw["values"], index, field)
            return {"path": axis_path, "values": values} if self.errors.total == before else None
        return self.axis_range(path, raw, axis_path, index, field)

    def axis_target(self, path: str, value: Any) -> tuple[str, int, str] | None:
        target, problem = config_path_target(value, self.stages)
        if problem:
            self.errors.add(path, problem)
        return target

    def axis_values(self, path: str, raw: Any, index: int, field: str) -> list:
        if not isinstance(raw, list) or not raw or len(raw) > P.MAX_GRID_POINTS:
            self.errors.add(path, f"Must be a non-empty list of at most {P.MAX_GRID_POINTS} values.")
            return []
        values = []
        for i, value in enumerate(raw):
            here = f"{path}.{i}"
            if field == "model":
                values.append(self.model(here, value))
            elif field == "endpoint":
                values.append(self.endpoint(here, value))
            elif field in ("system_prompt", "prompt_template"):
                blank = field == "prompt_template" and isinstance(value, str) and not value.strip()
                if not isinstance(value, str) or len(value) > self.max_chars or blank:
                    kind = "a non-empty string" if field == "prompt_template" else "a string"
                    self.errors.add(here, f"Must be {kind} of at most {self.max_chars} characters.")
                elif self.stages[index]:
                    self.template(here, index, value)
                values.append(value)
            else:
                values.append(self.param(here, field.removeprefix("params."), value))
        return values

    def axis_range(self, path: str, raw: dict, axis_path: str, index: int, field: str) -> dict | None:
        pname = field.removeprefix("params.")
        stage = self.stages[index]
        if field == pname:
            self.errors.add(f"{path}.path", "A range only applies to a numeric parameter; use 'values'.")
            return None
        axis, problems = P.normalize_range(pname, raw, current=stage["params"].get(pname) if stage else None)
        for key, message in problems.items():
            self.errors.add(f"{path}.{key}" if key else path, message)
        return None if problems else {"path": axis_path, **axis}



def config_path_target(path: Any, stages: list) -> tuple[tuple[str, int, str] | None, str | None]:
    """((canonical path, stage index, field), None) for a path a sweep or point may set, else (None, why not).

    `stages` are the pipeline's stages (None for a malformed one); a parameter must be a known one
    or one that its stage already sets.
    """
    match = _AXIS_PATH.match(path) if isinstance(path, str) else None
    if not match:
        return None, ("Unknown path; use stages.<i>.model, .endpoint, .system_prompt, .prompt_template or "
                      ".params.<name>.")
    index, field = int(match.group(1)), match.group(2)
    if index >= len(stages):
        return None, f"There is no stage {index} (the pipeline has {len(stages)})."
    stage, pname = stages[index], match.group(3)
    if pname is not None:
        params = stage.get("params") if isinstance(stage, dict) else None
        problem = P.param_name_error(pname)
        if problem is None and pname not in P.KNOWN_PARAMS and not (isinstance(params, dict) and pname in params):
            problem = f"Unknown parameter '{pname}': use a known one or set it in stage {index}'s params first."
        if problem:
            return None, problem
    return (f"stages.{index}.{field}", index, field), None
