"""Tiny helpers that read settings from the environment (healthchecks-style)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"Environment variable {name} must be an integer, got {value!r}") from exc


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def persisted_secret(data_dir: Path, filename: str, make: callable) -> str:
    """Read a secret from DATA_DIR, creating it once (O_EXCL, so concurrent starts agree)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / filename
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if value:
            return value
        # A concurrent starter created the file and has not written it yet.
        for _ in range(1000):
            value = path.read_text().strip()
            if value:
                return value
        raise RuntimeError(f"{path} exists but is empty; delete it to regenerate") from None
    value = make()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def make_secret_key() -> str:
    return secrets.token_urlsafe(50)
