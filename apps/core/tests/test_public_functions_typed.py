"""Every public service and selector declares its types: each parameter and the return value."""

import ast
from pathlib import Path

from django.conf import settings

# The modules other apps, tasks and surfaces call into (DESIGN.md "Where logic lives").
PUBLIC_MODULES = [
    "apps/*/services.py", "apps/*/services/*.py", "apps/*/selectors.py", "apps/activity/*.py",
    "apps/runs/summaries.py", "apps/runs/leaderboard.py", "apps/runs/rescoring.py", "apps/runs/llm_host.py",
    "apps/runs/scoring_backend.py", "apps/exports/saved_configs.py", "apps/experiments/endpoint_usage.py",
    "apps/instance/services.py", "apps/instance/stats.py", "apps/instance/demo.py", "apps/core/permissions.py",
    "apps/core/queue.py", "apps/runs/querysets.py", "apps/runs/outputs.py",
]


def public_modules() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return sorted({path for pattern in PUBLIC_MODULES for path in root.glob(pattern)})


def public_functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level functions and the methods of module-level classes, by qualified name, minus `_private`."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += [(f"{node.name}.{method.name}", method) for method in node.body
                      if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                      and (not method.name.startswith("_") or method.name == "__init__")]
    return found


def untyped(function: ast.FunctionDef | ast.AsyncFunctionDef, *, is_method: bool) -> list[str]:
    args = function.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    params = [p for p in params if p is not None]
    if is_method and params and params[0].arg in ("self", "cls") and not any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list
    ):
        params = params[1:]
    missing = [p.arg for p in params if p.annotation is None]
    return missing + (["return"] if function.returns is None else [])


def unannotated_report() -> list[str]:
    root = Path(settings.BASE_DIR)
    report = []
    for path in public_modules():
        for name, function in public_functions(ast.parse(path.read_text(), filename=str(path))):
            missing = untyped(function, is_method="." in name)
            if missing:
                report.append(f"{path.relative_to(root)}:{function.lineno} {name}: {', '.join(missing)}")
    return report


def test_the_scan_finds_the_service_and_selector_modules():
    names = {str(path.relative_to(settings.BASE_DIR)) for path in public_modules()}
    assert {"apps/runs/services/sweeps.py", "apps/experiments/selectors.py", "apps/activity/services.py"} <= names
    assert len(names) > 30


def test_the_check_names_an_untyped_parameter_and_a_missing_return():
    tree = ast.parse("def thing_make(*, user, n: int): ...\nclass Host:\n    def call(self, fn) -> None: ...\n"
                     "def _private(x): ...\n")
    found = {name: untyped(function, is_method="." in name) for name, function in public_functions(tree)}
    assert found == {"thing_make": ["user", "return"], "Host.call": ["fn"]}


def test_every_public_service_and_selector_annotates_each_parameter_and_its_return():
    assert unannotated_report() == []
