"""JSON export: flat keys for one stage (as in the spec), a `stages` list for pipelines."""

from __future__ import annotations

import json

from apps.exports.document import ExportDocument, StageDoc

STAGE_KEYS = ("model", "endpoint", "endpoint_label", "provider")
RESERVED = {*STAGE_KEYS, "system_prompt", "prompt_template", "score", "score_ci", "approval", "experiment",
            "experiment_id", "run_id", "exported_at", "stages", "extra_params", "significance"}


def metadata(doc: ExportDocument) -> dict:
    meta = {"score": doc.score, "score_ci": doc.score_ci}
    if doc.approval:
        meta["approval"] = doc.approval
    return {**meta, "experiment": doc.experiment, "experiment_id": doc.experiment_id, "run_id": doc.run_id,
            "exported_at": doc.exported_at, "significance": doc.significance}


def stage_dict(stage: StageDoc) -> dict:
    return {"name": stage.name, **{key: getattr(stage, key) for key in STAGE_KEYS}, "params": stage.params,
            "system_prompt": stage.system_prompt, "prompt_template": stage.prompt_template}


def document_dict(doc: ExportDocument) -> dict:
    if doc.multi_stage:
        return {"stages": [stage_dict(stage) for stage in doc.stages], **metadata(doc)}
    stage = doc.stages[0]
    flat = {key: getattr(stage, key) for key in STAGE_KEYS}
    # A provider extra named like a top-level key (e.g. "score") must not overwrite it.
    extra = {name: value for name, value in stage.params.items() if name in RESERVED}
    flat.update({name: value for name, value in stage.params.items() if name not in RESERVED})
    if extra:
        flat["extra_params"] = extra
    return {**flat, "system_prompt": stage.system_prompt, "prompt_template": stage.prompt_template,
            **metadata(doc)}


def render(doc: ExportDocument) -> str:
    return json.dumps(document_dict(doc), indent=2, ensure_ascii=False) + "\n"
