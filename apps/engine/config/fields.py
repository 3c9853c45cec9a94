"""Checks of single values that several sections share (text, numbers, endpoint ids, model names)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from apps.engine import params as P
from apps.engine.config.errors import FieldErrors

MAX_BUDGET_USD = Decimal("99999999.9999")


class FieldChecks:
    """Base of the section checks: `errors` collects problems, `endpoint_ids` are the owner's endpoints."""

    errors: FieldErrors
    endpoint_ids: set[str]

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

    def param(self, path: str, name: Any, value: Any) -> Any:
        problem = P.param_name_error(name)
        if problem is None:
            value, problem = P.normalize_param(name, value)
        if problem:
            self.errors.add(path, problem)
        return value

    def unknown_keys(self, path: str, raw: dict, allowed: set[str]) -> None:
        for key in sorted(set(raw) - allowed, key=str):
            self.errors.add(f"{path}.{key}", f"Unknown field; expected one of: {', '.join(sorted(allowed))}.")
