"""Python scorer: an admin-authored `def score(item, output, context):` run in the sandbox.

Off unless the deployment sets SCORERS_PYTHON_ENABLED=true, and only admins may author or edit
one (the Django side enforces that when the experiment is saved): writing a snippet is shell
access on the worker host. Each call runs in a fresh child process (see apps.engine.sandbox)
with only the standard library, no network where the kernel allows it, and hard limits.

Options: `code` (≤ 20,000 characters), `timeout_s` (default 5, max 30), `memory_mb` (default 256,
max 1024). `context` is {stage_outputs, config, run_id, repeat}. The snippet returns a finite
number in [0, 1], a bool (1 or 0) or {"score": x, "reason": "..."}; anything else is an error.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from apps.engine.sandbox import SandboxLimits, run_sandboxed
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext

DISABLED_MESSAGE = "Python scorers are disabled; an admin can enable them with SCORERS_PYTHON_ENABLED=true"
MAX_CODE_CHARS = 20_000
MAX_REASON_CHARS = 4096
SHAPE = 'a number in [0, 1], a bool or {"score": x, "reason": "..."}'


def _check_code(options: dict[str, Any]) -> str:
    code = opt.text(options, "code", max_chars=MAX_CODE_CHARS)
    if "\x00" in code:
        raise OptionsInvalid("code", "Must not contain NUL characters.")
    try:
        tree = compile(code, "<scorer>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        compile(tree, "<scorer>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise OptionsInvalid("code", f"Syntax error on line {exc.lineno}: {exc.msg}.") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise OptionsInvalid("code", f"Cannot be compiled: {type(exc).__name__}.") from None
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name == "score"]
    if not defs:
        raise OptionsInvalid("code", "Must define `def score(item, output, context):` at the top level.")
    node = defs[-1]
    if isinstance(node, ast.AsyncFunctionDef):
        raise OptionsInvalid("code", f"Line {node.lineno}: score must be a plain `def`, not `async def`.")
    args = node.args
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    if (positional < 3 and args.vararg is None) or required > 3 or any(d is None for d in args.kw_defaults):
        raise OptionsInvalid("code", f"Line {node.lineno}: score must take (item, output, context).")
    return code


def _check_value(value: Any, where: str = "score()") -> float | str:
    """The score as a float, or an error message explaining why `value` is not one."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return f"{where} returned {value!r}, which is not a finite number"
        if not 0 <= value <= 1:
            return f"{where} returned {value!r}, which is outside [0, 1]"
        return float(value)
    shown = repr(value)
    return f"{where} must return {SHAPE}; got {shown[:100]}{'…' if len(shown) > 100 else ''}"


def _clean_reason(reason: str) -> str:
    # Lone surrogates and NULs would break the database (Postgres rejects both).
    cleaned = reason.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return cleaned if len(cleaned) <= MAX_REASON_CHARS else cleaned[:MAX_REASON_CHARS] + "…"


def interpret(value: Any) -> tuple[float | None, str, str]:
    """(score, reason, error) from what the snippet returned."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"score", "reason"})
        if unknown or "score" not in value:
            return None, "", f"score() returned a dict with keys {sorted(value)[:10]}; expected {SHAPE}"
        reason = value.get("reason", "")
        if not isinstance(reason, str):
            return None, "", f'score() returned a "reason" of type {type(reason).__name__}; it must be a string'
        checked = _check_value(value["score"], where='score()["score"]')
        if isinstance(checked, str):
            return None, "", checked
        return checked, _clean_reason(reason), ""
    checked = _check_value(value)
    return (None, "", checked) if isinstance(checked, str) else (checked, "", "")


class PythonScorer(Scorer):
    type = "python"
    admin_only = True
    admin_only_message = ("Python scorers are off, or you are not an administrator: they run code, so only "
                          "admins may add them when SCORERS_PYTHON_ENABLED is on.")

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("code", "timeout_s", "memory_mb"))
        return {
            "code": _check_code(options),
            "timeout_s": opt.number(options, "timeout_s", default=5.0, low=0.1, high=30),
            "memory_mb": opt.number(options, "memory_mb", default=256, low=64, high=1024, integer=True),
        }

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        if not ctx.python_enabled:
            return ScoreResult.failed(DISABLED_MESSAGE, error_code="feature_disabled")
        o = self.options
        context = {"stage_outputs": ctx.stage_outputs, "config": ctx.config, "run_id": ctx.run_id,
                   "repeat": ctx.repeat}
        outcome = await run_sandboxed(code=o["code"], item=ctx.item, output=ctx.output, context=context,
                                      limits=SandboxLimits(timeout_s=o["timeout_s"], memory_mb=o["memory_mb"]))
        metadata = {"network_isolated": outcome.network_isolated, "privileges_dropped": outcome.privileges_dropped,
                    "duration_ms": outcome.duration_ms}
        if not outcome.ok:
            return ScoreResult.failed(outcome.error, error_code=outcome.error_code, **metadata)
        value, reason, error = interpret(outcome.value)
        if error:
            return ScoreResult.failed(f"Python scorer: {error}", error_code="scorer_bad_output", **metadata)
        if reason:
            metadata["reason"] = reason
        return ScoreResult(value=value, metadata=metadata)
