"""The one error the configuration checks raise: every problem found, keyed by dotted field path."""

from __future__ import annotations


class ConfigInvalid(Exception):
    """`errors` maps a path such as `pipeline_stages.0.template` to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class FieldErrors(dict):
    """Messages by path, collected while checking (the checks go on after the first problem)."""

    total = 0

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)
        self.total += 1
