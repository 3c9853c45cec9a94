"""Format compliance (scorer type `format`), by `kind`:

- `json`: the output parses as JSON → 1, else 0. With `allow_fenced` (default false) the JSON may
  also sit in a ```json (or bare ```) fenced block; the first block that parses is used.
- `json_schema`: as `json`, then validated against `schema` (JSON Schema Draft 2020-12, checked
  when the options are saved; remote `$ref`s are never fetched). 1 when valid, else 0; metadata
  lists the failing paths and messages.
- `markdown`: requirements `headings` (a minimum count, or a list of heading texts that must
  appear, case-insensitive), `lists`, `code_blocks`, `tables` (minimum counts); the score is the
  fraction of requirements met (each required heading text is one requirement).
- `regex`: `pattern` (≤ 1,000 characters; inline flags such as `(?i)` work) must `search`
  (default) or `fullmatch` the output. Only the first 100,000 characters are searched (a longer
  output fails `fullmatch`); patterns with a nested unbounded quantifier such as `(a+)+` are
  refused, and a match that runs past 2 s is a scorer error (see regex_safety).
An output that does not comply scores 0; that is a result, not a scorer error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import referencing.exceptions

from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext
from apps.engine.scorers.markdown_structure import MARKDOWN_OPTIONS, check_markdown, markdown_requirements
from apps.engine.scorers.regex_safety import RegexTooSlow, find, unsafe_repeat

KINDS = ("json", "json_schema", "markdown", "regex")
MAX_SCHEMA_CHARS = 100_000
MAX_PATTERN_CHARS = 1000
MAX_SCAN_CHARS = 100_000
MAX_ERRORS = 20
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]{0,30})[^\n`]{0,200}\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_OPTIONS = {
    "json": ("allow_fenced",),
    "json_schema": ("schema", "allow_fenced"),
    "markdown": MARKDOWN_OPTIONS,
    "regex": ("pattern", "mode"),
}


def parse_json(text: str, *, allow_fenced: bool) -> tuple[bool, Any, str]:
    """(parsed?, value, where it came from or why it failed)."""
    candidates = [("output", text)]
    if allow_fenced:
        blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
        candidates += [("fenced block", body) for lang, body in blocks if lang in ("json", "")]
    error = ""
    for where, candidate in candidates:
        try:
            return True, json.loads(candidate), where
        except (ValueError, RecursionError) as exc:
            error = error or (f"invalid JSON: {exc}" if isinstance(exc, ValueError) else "JSON nested too deeply")
    return False, None, error or "no JSON found"


class FormatScorer(Scorer):
    type = "format"

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        kind = self.options["kind"]
        if kind == "json_schema":
            self.validator = jsonschema.Draft202012Validator(self.options["schema"])

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("kind", *dict.fromkeys(k for keys in _OPTIONS.values() for k in keys)))
        kind = opt.choice(options, "kind", KINDS)
        options = opt.start({k: v for k, v in options.items() if k != "kind"}, _OPTIONS[kind])
        if kind == "markdown":
            return {"kind": kind, **markdown_requirements(options)}
        if kind == "regex":
            return {"kind": kind, "pattern": _checked_pattern(options),
                    "mode": opt.choice(options, "mode", ("search", "fullmatch"), "search")}
        normalized = {"kind": kind, "allow_fenced": opt.flag(options, "allow_fenced", False)}
        if kind == "json_schema":
            normalized["schema"] = _checked_schema(options.get("schema"))
        return normalized

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        kind = self.options["kind"]
        if kind == "markdown":
            return check_markdown(ctx.output, self.options)
        if kind == "regex":
            return await self.score_regex(ctx.output)
        ok, value, where = parse_json(ctx.output, allow_fenced=self.options["allow_fenced"])
        if not ok:
            return ScoreResult(0.0, {"kind": kind, "valid_json": False, "error": where})
        if kind == "json":
            return ScoreResult(1.0, {"kind": kind, "valid_json": True, "source": where})
        try:
            errors = sorted(self.validator.iter_errors(value), key=lambda e: (e.json_path, e.message))
        except referencing.exceptions.Unresolvable as exc:
            return ScoreResult.failed(f"the schema has a $ref that cannot be resolved: {exc}")
        except RecursionError:
            return ScoreResult.failed("the output is nested too deeply to validate against the schema")
        metadata = {"kind": kind, "valid_json": True, "source": where, "valid": not errors,
                    "error_count": len(errors),
                    "errors": [{"path": e.json_path, "message": e.message[:500]} for e in errors[:MAX_ERRORS]]}
        return ScoreResult(0.0 if errors else 1.0, metadata)

    async def score_regex(self, output: str) -> ScoreResult:
        mode = self.options["mode"]
        metadata: dict[str, Any] = {"kind": "regex", "mode": mode, "pattern": self.options["pattern"]}
        if len(output) > MAX_SCAN_CHARS:
            if mode == "fullmatch":
                metadata["error"] = f"output is longer than {MAX_SCAN_CHARS} characters; fullmatch not tried"
                return ScoreResult(0.0, {**metadata, "matched": False})
            output, metadata["scanned_chars"] = output[:MAX_SCAN_CHARS], MAX_SCAN_CHARS
        try:
            span = await find(self.options["pattern"], output, mode)
        except RegexTooSlow as exc:
            return ScoreResult.failed(str(exc), **metadata)
        metadata["matched"] = span is not None
        if span is not None:
            metadata["match"], metadata["span"] = output[span[0]:span[1]][:200], list(span)
        return ScoreResult(1.0 if span else 0.0, metadata)


def _checked_pattern(options: dict) -> str:
    pattern = opt.text(options, "pattern", max_chars=MAX_PATTERN_CHARS)
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise OptionsInvalid("pattern", f"Not a valid regular expression: {exc}") from None
    reason = unsafe_repeat(pattern)
    if reason:
        raise OptionsInvalid("pattern", reason)
    return pattern


def _checked_schema(schema: Any) -> Any:
    if not isinstance(schema, (dict, bool)):
        raise OptionsInvalid("schema", "Must be a JSON Schema (an object or a boolean).")
    if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
        raise OptionsInvalid("schema", f"Must be at most {MAX_SCHEMA_CHARS} characters as JSON.")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = exc.json_path if exc.path else "$"
        raise OptionsInvalid("schema", f"Not a valid JSON Schema (Draft 2020-12) at {where}: {exc.message}") from None
    for pattern in _schema_patterns(schema):
        reason = unsafe_repeat(pattern)
        if reason:
            raise OptionsInvalid("schema", f"In the pattern {pattern!r}: {reason}")
    return schema


def _schema_patterns(schema: Any) -> list[str]:
    """Every regex in a schema (`pattern` values, `patternProperties` keys), which jsonschema runs with `re`."""
    found: list[str] = []
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            found.append(schema["pattern"])
        if isinstance(schema.get("patternProperties"), dict):
            found += list(schema["patternProperties"])
        for value in schema.values():
            found += _schema_patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _schema_patterns(value)
    return found
