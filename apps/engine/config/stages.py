"""Pipeline stage checks: names, endpoints, models, prompts, parameters and what templates may read."""

from __future__ import annotations

import re
from typing import Any

from apps.engine.config.data import ItemNames
from apps.engine.config.fields import FieldChecks
from apps.engine.config.specs import StageSpec
from apps.engine.templating import CONTEXT_NAMES, TemplateError, attribute_references, template_variables

STAGE_KEYS = {"name", "endpoint", "model", "system_prompt", "prompt_template", "params"}
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


def stage_spec(stage: dict) -> StageSpec:
    """The typed form of a normalized stage."""
    return StageSpec(name=stage["name"], endpoint=stage["endpoint"], model=stage["model"],
                     prompt_template=stage["prompt_template"], system_prompt=stage.get("system_prompt") or "",
                     params=dict(stage.get("params") or {}))


class StageChecks(FieldChecks):
    max_stages: int
    max_chars: int
    items: ItemNames
    stages: list[dict | None]

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
        self.unknown_keys(path, raw, STAGE_KEYS)
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
