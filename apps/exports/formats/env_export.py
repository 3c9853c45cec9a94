""".env export: `LLM_*` variables (prefixed by stage name for pipelines) and a trailing score comment.

Quoting keeps every variable on one line whatever a prompt contains: plain values stay bare,
one-line values with spaces or `$` go in single quotes (literal for shells, docker compose and
dotenv libraries), and anything else — newlines, quotes, control characters — is double-quoted
with backslash escapes (`\\n`, `\\"`, `\\$`; other line breaks as four-digit `\\u` escapes).
"""

from __future__ import annotations

import re
import unicodedata

from apps.engine.hashing import canonical_json
from apps.exports.document import ExportDocument, StageDoc

_BARE = re.compile(r"[A-Za-z0-9_./:@%+,-]*")
_NOT_NAME = re.compile(r"[^A-Za-z0-9]")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "$": "\\$", "`": "\\`"}


def _is_break_or_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def quote(value: str) -> str:
    if _BARE.fullmatch(value):
        return value
    if "'" not in value and not any(_is_break_or_control(ch) for ch in value):
        return f"'{value}'"
    escaped = "".join(
        _ESCAPES.get(ch) or (f"\\u{ord(ch):04x}" if _is_break_or_control(ch) else ch) for ch in value
    )
    return f'"{escaped}"'


def scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return canonical_json(value)


def comment(text: str) -> str:
    return "# " + "".join(" " if _is_break_or_control(ch) else ch for ch in text)


def name_part(text: str) -> str:
    return _NOT_NAME.sub("_", text).upper()


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.used: set[str] = set()

    def add(self, key: str, value) -> None:
        candidate, n = key, 1
        while candidate in self.used:
            n += 1
            candidate = f"{key}_{n}"
        self.used.add(candidate)
        self.lines.append(f"{candidate}={quote(scalar(value))}")


def _stage(out: _Lines, stage: StageDoc, prefix: str) -> None:
    out.lines.append(comment(f"{stage.name}: endpoint {stage.endpoint_label}"))
    out.add(f"{prefix}LLM_MODEL", stage.model)
    out.add(f"{prefix}LLM_API_URL", stage.endpoint)
    out.add(f"{prefix}LLM_PROVIDER", stage.provider)
    for name, value in stage.params.items():
        out.add(f"{prefix}LLM_{name_part(str(name))}", value)
    if stage.system_prompt:
        out.add(f"{prefix}LLM_SYSTEM_PROMPT", stage.system_prompt)
    out.add(f"{prefix}LLM_PROMPT_TEMPLATE", stage.prompt_template)


def render(doc: ExportDocument) -> str:
    out = _Lines()
    for stage in doc.stages:
        prefix = ""
        if doc.multi_stage:
            prefix = name_part(stage.name) + "_"
            prefix = prefix if prefix[0].isalpha() else f"S{prefix}"
        _stage(out, stage, prefix)
    score = "n/a" if doc.score is None else f"{doc.score:g}"
    out.lines.append(comment(f"Score: {score} | Experiment: {doc.experiment}"))
    out.lines.append(comment(f"Run: {doc.run_id} | Exported: {doc.exported_at}"))
    return "\n".join(out.lines) + "\n"
