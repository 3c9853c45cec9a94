"""Chosen fields of a JSON output compared with the item's expected object (scorer type `json_fields`).

The output is parsed as JSON, or (`allow_fenced`, default true) from the first ```json or bare
``` fenced block that parses, or else from its first `{` to its last `}` (prose around an object).
`fields` lists dotted paths (`name`, `address.city`, `items.0.sku`); without it every top-level
key of the expected object is compared. The expected object comes from
the `expected` field (or another field path; a JSON string is parsed). Values compare as JSON
(1 equals 1.0; objects and lists must be equal as a whole); with `case_sensitive` false strings
compare case-folded, and strings are compared with surrounding whitespace trimmed.

Score: the fraction of fields that match; the explanation names each mismatched or missing
field. An output that is not JSON scores 0; an expected value that is not an object, or that
lacks a listed field, is a scorer error on that item.
"""

from __future__ import annotations

import json
from typing import Any

from apps.engine.scorers import labelled
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScorerError, ScoreResult, ScoringContext
from apps.engine.scorers.format_check import parse_json

MAX_FIELDS = 200
_MISSING = object()


def at_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _comparable(value: Any, case_sensitive: bool) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value if case_sensitive else value.casefold()
    if isinstance(value, bool) or value is None:
        return ("literal", value)  # keep True apart from 1
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [_comparable(v, case_sensitive) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v, case_sensitive) for k, v in value.items()}
    return value


def _shown(value: Any) -> str:
    return labelled.excerpt(json.dumps(value, ensure_ascii=False, sort_keys=True), 80)


def parse_output(text: str, *, allow_fenced: bool) -> tuple[bool, Any, str]:
    """As format_check.parse_json, then (with `allow_fenced`) the text from the first `{` to the last `}`."""
    ok, value, where = parse_json(text, allow_fenced=allow_fenced)
    start, end = text.find("{"), text.rfind("}")
    if ok or not allow_fenced or start < 0 or end <= start:
        return ok, value, where
    try:
        return True, json.loads(text[start:end + 1]), "embedded object"
    except (ValueError, RecursionError):
        return ok, value, where


def expected_object(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise ScorerError("the expected value is text that is not JSON") from None
    if not isinstance(value, dict):
        raise ScorerError(f"the expected value must be a JSON object, not {type(value).__name__}")
    return value


class JsonFieldsScorer(Scorer):
    type = "json_fields"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("expected", "fields", "allow_fenced", "case_sensitive"))
        fields = options.get("fields")
        if fields is not None:
            if isinstance(fields, str):
                fields = [fields]
            if not isinstance(fields, list) or not fields or len(fields) > MAX_FIELDS:
                raise OptionsInvalid("fields", f"Must be a list of 1 to {MAX_FIELDS} dotted field paths.")
            for index, path in enumerate(fields):
                if not isinstance(path, str) or not labelled.FIELD_PATH.match(path.strip()):
                    raise OptionsInvalid(f"fields.{index}", "Must be a dotted field path such as `address.city`.")
            fields = list(dict.fromkeys(path.strip() for path in fields))
        return {"expected": labelled.source_option(options), "fields": fields,
                "allow_fenced": opt.flag(options, "allow_fenced", True),
                "case_sensitive": opt.flag(options, "case_sensitive", True)}

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        o = self.options
        expected = expected_object(labelled.expected_value(ctx.item, o["expected"]))
        fields = o["fields"] or sorted(expected)
        if not fields:
            raise ScorerError("the expected object is empty: there is no field to compare")
        ok, output, where = parse_output(ctx.output, allow_fenced=o["allow_fenced"])
        if not ok:
            return ScoreResult(0.0, {"valid_json": False, "reasoning": f"the output is not JSON ({where})"})
        matched, mismatched, missing = [], [], []
        for path in fields:
            want = at_path(expected, path)
            if want is _MISSING:
                raise ScorerError(f"the expected object has no field `{path}`")
            got = at_path(output, path)
            if got is _MISSING:
                missing.append(path)
            elif _comparable(got, o["case_sensitive"]) == _comparable(want, o["case_sensitive"]):
                matched.append(path)
            else:
                mismatched.append({"field": path, "expected": _shown(want), "got": _shown(got)})
        parts = [f"{len(matched)} of {len(fields)} fields match"]
        if mismatched:
            parts.append("mismatched: " + ", ".join(f"{m['field']} (expected {m['expected']}, got {m['got']})"
                                                   for m in mismatched[:10]))
        if missing:
            parts.append("missing: " + ", ".join(missing[:10]))
        return ScoreResult(len(matched) / len(fields), {
            "valid_json": True, "source": where, "matched": matched, "mismatched": mismatched, "missing": missing,
            "reasoning": "; ".join(parts),
        })
