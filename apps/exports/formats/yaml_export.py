"""YAML export: `parameters:` and `metadata:` sections as in the spec; multi-line prompts as block scalars."""

from __future__ import annotations

import yaml

from apps.exports.document import ExportDocument, StageDoc
from apps.exports.formats.json_export import metadata

_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper (only plain data, as yaml.safe_dump) that writes multi-line strings as `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted scalar when a block cannot hold the text (e.g. trailing spaces),
    # but writes NEL/LS/PS raw, and a reader folds them: only double quotes escape them.
    if any(ch in value for ch in _UNICODE_BREAKS):
        style = '"'
    else:
        style = "|" if "\n" in value and value.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def stage_mapping(stage: StageDoc, *, named: bool) -> dict:
    mapping = {"name": stage.name} if named else {}
    mapping.update({"model": stage.model, "endpoint": stage.endpoint, "endpoint_label": stage.endpoint_label,
                    "provider": stage.provider, "parameters": stage.params})
    if stage.system_prompt:
        mapping["system_prompt"] = stage.system_prompt
    mapping["prompt_template"] = stage.prompt_template
    return mapping


def document_mapping(doc: ExportDocument) -> dict:
    if doc.multi_stage:
        return {"stages": [stage_mapping(stage, named=True) for stage in doc.stages], "metadata": metadata(doc)}
    return {**stage_mapping(doc.stages[0], named=False), "metadata": metadata(doc)}


def render(doc: ExportDocument) -> str:
    return yaml.dump(document_mapping(doc), Dumper=_BlockDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=120)
