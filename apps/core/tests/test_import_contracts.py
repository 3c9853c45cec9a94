"""The layer contracts in pyproject.toml are enforced: a deliberate upward import breaks the lint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT = Path(sys.executable).with_name("lint-imports")


def _tree_copy(target: Path) -> Path:
    shutil.copytree(
        ROOT / "apps", target / "apps",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates"),
    )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--config", "pyproject.toml", "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )


def _add_import(tree: Path, module: str, imported: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\nimport {imported}  # deliberate layer violation\n")


@pytest.fixture(scope="module")
def lint_available():
    if not LINT.exists():
        pytest.fail(f"import-linter is not installed next to {sys.executable}; run bin/setup --dev")


def test_the_code_as_it_stands_keeps_every_contract(lint_available, tmp_path):
    result = _lint(_tree_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imported", "contract"),
    [
        ("apps.core.crypto", "apps.runs.models", "Layers: an app imports only the apps below it"),
        ("apps.projects.services", "apps.experiments.models", "Layers: an app imports only the apps below it"),
        ("apps.runs.selectors", "apps.exports.selectors", "Layers: an app imports only the apps below it"),
        ("apps.exports.selectors", "apps.webhooks.models", "Layers: an app imports only the apps below it"),
        ("apps.engine.hashing", "apps.core.jsonsafety", "The engine and the fake LLM server import no app"),
        ("apps.engine.scorers.length", "apps.engine.planners.grid", "Plug-in families are independent"),
    ],
)
def test_a_deliberate_upward_import_breaks_the_contract(lint_available, tmp_path, module, imported, contract):
    tree = _tree_copy(tmp_path)
    _add_import(tree, module, imported)
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert contract in result.stdout.replace("\n", " ")
    assert f"{module} -> {imported}" in result.stdout
