"""Scoring checks: `{"scorers": [{"type", "name", "weight", "options"}]}`, options checked by each scorer."""

from __future__ import annotations

from typing import Any

from apps.engine import params as P
from apps.engine.config.fields import FieldChecks
from apps.engine.config.specs import DEFAULT_ALPHA, MAX_ALPHA, ScorerSpec, ScoringSpec
from apps.engine.scorers import SCORERS, validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid

SCORER_KEYS = {"type", "name", "weight", "options"}


def scoring_spec(config: dict) -> ScoringSpec:
    """The typed form of a normalized scoring config."""
    return ScoringSpec(tuple(
        ScorerSpec(type=s["type"], name=s["name"], weight=float(s["weight"]), options=s["options"])
        for s in config.get("scorers", [])
    ), alpha=significance_alpha(config))


def significance_alpha(config: Any) -> float:
    """The configured significance level, or the default when absent or unusable (stored rows)."""
    raw = config.get("significance") if isinstance(config, dict) else None
    alpha = raw.get("alpha") if isinstance(raw, dict) else None
    return float(alpha) if P.is_number(alpha) and 0 < alpha <= MAX_ALPHA else DEFAULT_ALPHA


class ScorerChecks(FieldChecks):
    allow_admin_only: bool

    def scoring_config(self, raw: Any) -> dict:
        if raw is None:
            return {"scorers": []}
        if not isinstance(raw, dict):
            self.errors.add("scoring_config", 'Must be an object like {"scorers": [...]}.')
            return {}
        self.unknown_keys("scoring_config", raw, {"scorers", "significance"})
        significance = self.significance(raw["significance"]) if "significance" in raw else None
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
            self.unknown_keys(path, entry, SCORER_KEYS)
            kind = entry.get("type")
            known = kind in SCORERS
            if not known:
                self.errors.add(f"{path}.type", f"Unknown scorer type {kind!r}; known: {', '.join(SCORERS)}.")
            name = entry.get("name", kind)
            if "name" in entry and (not isinstance(name, str) or not name.strip() or len(name) > 100):
                self.errors.add(f"{path}.name", "Must be a non-empty label (≤ 100 characters).")
            elif name in names and known:
                self.errors.add(f"{path}.name", f"Duplicate scorer name '{name}'; give each scorer its own name.")
            names.add(name)
            weight = entry.get("weight", 1)
            if not P.is_number(weight) or weight < 0:
                self.errors.add(f"{path}.weight", "Must be a number ≥ 0.")
                weights_ok = False
            options = entry.get("options", {})
            if not isinstance(options, dict):
                self.errors.add(f"{path}.options", "Must be an object.")
            elif known:
                options = self.scorer_options(path, kind, options)
            scorers.append({"type": kind, "name": name, "weight": weight, "options": options})
        if scorers and weights_ok and all(s["weight"] == 0 for s in scorers):
            self.errors.add("scoring_config.scorers", "At least one scorer needs a weight above 0.")
        return {"scorers": scorers, **({"significance": significance} if significance is not None else {})}

    def significance(self, raw: Any) -> dict | None:
        path = "scoring_config.significance"
        if not isinstance(raw, dict):
            self.errors.add(path, 'Must be an object like {"alpha": 0.05}.')
            return None
        self.unknown_keys(path, raw, {"alpha"})
        alpha = raw.get("alpha", DEFAULT_ALPHA)
        if not P.is_number(alpha) or not 0 < alpha <= MAX_ALPHA:
            self.errors.add(f"{path}.alpha", f"Must be a number above 0 and at most {MAX_ALPHA}.")
            return None
        return {"alpha": float(alpha)}

    def scorer_options(self, path: str, kind: str, options: dict) -> dict:
        cls = SCORERS.get(kind)
        if cls.admin_only and not self.allow_admin_only:
            self.errors.add(f"{path}.type", cls.admin_only_message)
            return options
        try:
            options = validate_scorer_options(kind, options)
        except OptionsInvalid as exc:
            field = f"{path}.type" if exc.field == "type" else f"{path}.options.{exc.field}"
            self.errors.add(field, exc.message)
            return options
        endpoint = cls.endpoint_of(options)
        if endpoint and str(endpoint) not in self.endpoint_ids:
            self.errors.add(f"{path}.options.endpoint", "Unknown endpoint.")
        return options
