"""Validate and normalize an experiment's configuration; errors are keyed by dotted field paths.

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

import math
import re
import uuid
from decimal import Decimal
from typing import Any

from apps.engine import params as P
from apps.engine.scorers import scorer_types, validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid
from apps.engine.templating import (
    CONTEXT_NAMES,
    TemplateError,
    attribute_references,
    item_variables,
    template_variables,
)
from apps.experiments.validation_space import MAX_AXES, SpaceChecks, config_path_target  # noqa: F401

KNOWN_SCORER_TYPES = scorer_types()
CONFIG_FIELDS = (
    "name", "description", "sample_data", "pipeline_stages", "scoring_config", "parameter_space",
    "repeats", "budget_tokens", "budget_usd",
)
MAX_REPEATS = 100
MAX_DESCRIPTION = 20_000
MAX_BUDGET_USD = Decimal("99999999.9999")
MAX_BIGINT = 2**63 - 1

_ITEM_KEYS = {"id", "input", "reference", "expected", "vars"}
_STAGE_KEYS = {"name", "endpoint", "model", "system_prompt", "prompt_template", "params"}
_SCORER_KEYS = {"type", "name", "weight", "options"}
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


class ExperimentInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class _Errors(dict):
    total = 0

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)
        self.total += 1


class _Items:
    """The sample items' variable names and keys, to check that templates only read what all items have."""

    def __init__(self, items: list[dict] | None) -> None:
        self.known = bool(items)
        self.names = {
            "variables": [(item["id"], set(item_variables(item))) for item in items or []],
            "keys": [(item["id"], set(item)) for item in items or []],
        }
        # Most names are in every item or in none: only the rest need a scan for the first gap.
        self.common = {kind: set.intersection(*[n for _, n in v]) if v else set() for kind, v in self.names.items()}
        self.anywhere = {kind: set().union(*[n for _, n in v]) for kind, v in self.names.items()}

    def lacking(self, name: str, *, label: str, as_key: bool = False) -> str | None:
        """A message when some item lacks `name`, else None."""
        kind = "keys" if as_key else "variables"
        if name in self.common[kind]:
            return None
        if name not in self.anywhere[kind]:
            return f"unknown {label} (no sample item has it)"
        item_id = next(item_id for item_id, names in self.names[kind] if name not in names)
        return f"{label} is missing from item '{item_id}'"


class _Checker(SpaceChecks):
    def __init__(self, *, endpoint_ids: set[str], max_items: int, max_stages: int, max_template_chars: int,
                 allow_python: bool = False):
        self.endpoint_ids = {str(e) for e in endpoint_ids}
        self.allow_python = allow_python
        self.max_items = max_items
        self.max_stages = max_stages
        self.max_chars = max_template_chars
        self.errors = _Errors()
        self.items = _Items(None)
        self.stages: list[dict | None] = []

    # -- scalars -------------------------------------------------------------------------------
    def text(self, path: str, value: Any, *, required: bool, limit: int) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            missing = required and (value is None or value == "")
            kind = "a non-empty string" if required else "a string"
            self.errors.add(path, "This field is required." if missing else f"Must be {kind}.")
            return ""
        if len(value) > limit:
            self.errors.add(path, f"Must be at most {limit} characters.")
            return ""
        return value.strip() if required else value

    def integer(self, path: str, value: Any, *, low: int, high: int, nullable: bool) -> int | None:
        if value is None and nullable:
            return None
        if not P.is_number(value) or not P.is_whole(value) or not low <= value <= high:
            self.errors.add(path, f"Must be a whole number between {low} and {high}.")
            return None
        return int(value)

    def budget_usd(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal) and value.is_finite():
            amount = value
        elif P.is_number(value):
            amount = Decimal(str(value))
        else:
            amount = Decimal(-1)
        if not Decimal(0) <= amount <= MAX_BUDGET_USD:
            self.errors.add("budget_usd", f"Must be a number between 0 and {MAX_BUDGET_USD}, or null.")
            return None
        return amount.quantize(Decimal("0.0001"))

    def endpoint(self, path: str, value: Any) -> str | None:
        try:
            canonical = str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            canonical = None
        if canonical not in self.endpoint_ids:
            self.errors.add(path, "Unknown endpoint.")
            return None
        return canonical

    def model(self, path: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            self.errors.add(path, "Must be a non-empty model name (≤ 200 characters).")
            return None
        return value.strip()

    def unknown_keys(self, path: str, raw: dict, allowed: set[str]) -> None:
        for key in sorted(set(raw) - allowed, key=str):
            self.errors.add(f"{path}.{key}", f"Unknown field; expected one of: {', '.join(sorted(allowed))}.")

    # -- sample data ---------------------------------------------------------------------------
    def sample_data(self, raw: Any) -> list[dict]:
        if not isinstance(raw, list):
            self.errors.add("sample_data", "Must be a list of items.")
            return []
        if len(raw) > self.max_items:
            self.errors.add("sample_data", f"At most {self.max_items} items are allowed (got {len(raw)}).")
            return []
        items, valid, seen = [], True, set()
        for index, entry in enumerate(raw):
            item = self.sample_item(f"sample_data.{index}", {"input": entry} if isinstance(entry, str) else entry)
            valid = valid and item is not None
            items.append(item)
            if item and "id" in item:
                if item["id"] in seen:
                    self.errors.add(f"sample_data.{index}.id", f"Duplicate id '{item['id']}'.")
                    valid = False
                seen.add(item["id"])
        counter = 0
        for item in items if valid else []:
            if "id" not in item:
                counter += 1
                while str(counter) in seen:
                    counter += 1
                item["id"] = str(counter)
                seen.add(item["id"])
        self.items = _Items(items if valid else None)
        return [{"id": item.pop("id"), **item} for item in items] if valid else []

    def sample_item(self, path: str, raw: Any) -> dict | None:
        if not isinstance(raw, dict):
            self.errors.add(path, "Each item must be an object with an 'input' (or a string).")
            return None
        before = self.errors.total
        self.unknown_keys(path, raw, _ITEM_KEYS)
        item: dict[str, Any] = {}
        if "id" in raw:
            value = raw["id"]
            if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
                self.errors.add(f"{path}.id", "Must be a non-empty string or an integer.")
            elif len(str(value)) > 200:
                self.errors.add(f"{path}.id", "Must be at most 200 characters.")
            else:
                item["id"] = str(value)
        if "input" not in raw:
            self.errors.add(f"{path}.input", "This field is required.")
        elif not isinstance(raw["input"], (str, dict)):
            self.errors.add(f"{path}.input", "Must be a string or an object.")
        else:
            item["input"] = raw["input"]
        for key in ("reference", "expected"):
            if key in raw:
                item[key] = raw[key]
        if "vars" in raw:
            if isinstance(raw["vars"], dict):
                item["vars"] = raw["vars"]
            else:
                self.errors.add(f"{path}.vars", "Must be an object of template variables.")
        return item if self.errors.total == before else None

    # -- stages --------------------------------------------------------------------------------
    def pipeline_stages(self, raw: Any) -> list[dict]:
        if not isinstance(raw, list) or not 1 <= len(raw) <= self.max_stages:
            message = "This field is required." if raw is None else f"Must be a list of 1 to {self.max_stages} stages."
            self.errors.add("pipeline_stages", message)
            return []
        before = self.errors.total
        self.stages = [self.stage(f"pipeline_stages.{i}", i, entry) for i, entry in enumerate(raw)]
        seen: set[str] = set()
        for index, stage in enumerate(self.stages):
            if stage and stage["name"] in seen:
                self.errors.add(f"pipeline_stages.{index}.name", f"Duplicate stage name '{stage['name']}'.")
            elif stage:
                seen.add(stage["name"])
        for index, stage in enumerate(self.stages):
            for field in ("system_prompt", "prompt_template"):
                if stage and isinstance(stage[field], str):
                    self.template(f"pipeline_stages.{index}.{field}", index, stage[field])
        return self.stages if self.errors.total == before else []

    def stage(self, path: str, index: int, raw: Any) -> dict | None:
        """The stage with its well-formed fields (None for each bad one); None if not an object."""
        if not isinstance(raw, dict):
            self.errors.add(path, "Each stage must be an object.")
            return None
        self.unknown_keys(path, raw, _STAGE_KEYS)
        name = raw.get("name", f"stage{index + 1}")
        if not isinstance(name, str) or not _STAGE_NAME.match(name):
            self.errors.add(f"{path}.name", "Must start with a letter and use letters, digits and '_' (≤ 100).")
        stage = {
            "name": name,
            "endpoint": self.endpoint(f"{path}.endpoint", raw.get("endpoint")),
            "model": self.model(f"{path}.model", raw.get("model")),
            "system_prompt": self.text(
                f"{path}.system_prompt", raw.get("system_prompt"), required=False, limit=self.max_chars
            ),
            "prompt_template": raw.get("prompt_template"),
            "params": {},
        }
        template = stage["prompt_template"]
        if not isinstance(template, str) or not template.strip() or len(template) > self.max_chars:
            missing = template is None or template == ""
            self.errors.add(f"{path}.prompt_template", "This field is required." if missing else
                            f"Must be a non-empty string of at most {self.max_chars} characters.")
            stage["prompt_template"] = None
        params = raw.get("params", {})
        if not isinstance(params, dict):
            self.errors.add(f"{path}.params", "Must be an object.")
        else:
            for key, value in params.items():
                stage["params"][key] = self.param(f"{path}.params.{key}", key, value)
        return stage

    def param(self, path: str, name: Any, value: Any) -> Any:
        problem = P.param_name_error(name)
        if problem is None:
            value, problem = P.normalize_param(name, value)
        if problem:
            self.errors.add(path, problem)
        return value

    def template(self, path: str, index: int, source: str) -> None:
        stage = self.stages[index]["name"]
        if not source:
            return
        try:
            names = template_variables(source, stage=stage, max_template_chars=self.max_chars)
        except TemplateError as exc:
            self.errors.add(path, str(exc))
            return
        earlier = [s["name"] for s in self.stages[:index] if s]
        for name in sorted(names):
            if name in ("previous", "stages") and index == 0:
                self.errors.add(path, f"stage '{stage}': '{name}' is only available after the first stage")
            elif name == "stages":
                for ref in sorted(attribute_references(source, "stages") - set(earlier)):
                    listed = ", ".join(earlier)
                    self.errors.add(path,
                                    f"stage '{stage}': 'stages.{ref}' is not an earlier stage (earlier: {listed})")
            elif name == "item" and self.items.known:
                for key in sorted(attribute_references(source, "item")):
                    problem = self.items.lacking(key, label=f"field 'item.{key}'", as_key=True)
                    if problem:
                        self.errors.add(path, f"stage '{stage}': {problem}")
            elif name not in CONTEXT_NAMES and self.items.known:
                problem = self.items.lacking(name, label=f"variable '{name}'")
                if problem:
                    self.errors.add(path, f"stage '{stage}': {problem}")

    # -- scoring -------------------------------------------------------------------------------
    def scoring_config(self, raw: Any) -> dict:
        if raw is None:
            return {"scorers": []}
        if not isinstance(raw, dict):
            self.errors.add("scoring_config", 'Must be an object like {"scorers": [...]}.')
            return {}
        self.unknown_keys("scoring_config", raw, {"scorers"})
        scorers_raw = raw.get("scorers", [])
        if not isinstance(scorers_raw, list):
            self.errors.add("scoring_config.scorers", "Must be a list of scorers.")
            return {}
        scorers, names, weights_ok = [], set(), True
        for index, entry in enumerate(scorers_raw):
            path = f"scoring_config.scorers.{index}"
            if not isinstance(entry, dict):
                self.errors.add(path, "Each scorer must be an object.")
                continue
            self.unknown_keys(path, entry, _SCORER_KEYS)
            kind = entry.get("type")
            if kind not in KNOWN_SCORER_TYPES:
                known = ", ".join(KNOWN_SCORER_TYPES)
                self.errors.add(f"{path}.type", f"Unknown scorer type {kind!r}; known: {known}.")
            name = entry.get("name", kind)
            if "name" in entry and (not isinstance(name, str) or not name.strip() or len(name) > 100):
                self.errors.add(f"{path}.name", "Must be a non-empty label (≤ 100 characters).")
            elif name in names and kind in KNOWN_SCORER_TYPES:
                self.errors.add(f"{path}.name", f"Duplicate scorer name '{name}'; give each scorer its own name.")
            names.add(name)
            weight = entry.get("weight", 1)
            if not P.is_number(weight) or weight < 0:
                self.errors.add(f"{path}.weight", "Must be a number ≥ 0.")
                weights_ok = False
            options = entry.get("options", {})
            if not isinstance(options, dict):
                self.errors.add(f"{path}.options", "Must be an object.")
            elif kind in KNOWN_SCORER_TYPES:
                options = self.scorer_options(path, kind, options)
            scorers.append({"type": kind, "name": name, "weight": weight, "options": options})
        if scorers and weights_ok and all(s["weight"] == 0 for s in scorers):
            self.errors.add("scoring_config.scorers", "At least one scorer needs a weight above 0.")
        return {"scorers": scorers}

    def scorer_options(self, path: str, kind: str, options: dict) -> dict:
        if kind == "python" and not self.allow_python:
            self.errors.add(f"{path}.type", "Python scorers are off, or you are not an administrator: they run "
                                            "code, so only admins may add them when SCORERS_PYTHON_ENABLED is on.")
            return options
        try:
            options = validate_scorer_options(kind, options)
        except OptionsInvalid as exc:
            field = f"{path}.type" if exc.field == "type" else f"{path}.options.{exc.field}"
            self.errors.add(field, exc.message)
            return options
        endpoint = options.get("endpoint")
        if endpoint and str(endpoint) not in self.endpoint_ids:
            self.errors.add(f"{path}.options.endpoint", "Unknown endpoint.")
        return options

    # -- parameter space -----------------------------------------------------------------------


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


def validate_experiment(
    data: dict, *, endpoint_ids: set[str], max_items: int, max_stages: int, max_template_chars: int,
    allow_python: bool = False,
) -> dict:
    """Return the normalized CONFIG_FIELDS of `data` or raise ExperimentInvalid with every error found."""
    if not isinstance(data, dict):
        raise ExperimentInvalid({"non_field_errors": ["Expected an object."]})
    check = _Checker(endpoint_ids=endpoint_ids, max_items=max_items, max_stages=max_stages,
                     max_template_chars=max_template_chars, allow_python=allow_python)
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
        raise ExperimentInvalid(dict(check.errors))
    return out
