"""The experiment builder's form ↔ an experiment's `data` dict, its row actions and where service errors go.

The page posts flat fields (`name`, `stage-0-model`, `scorer-1-options`, `axis-0-values`, …). A `Draft`
holds them as text, one list of rows per section; `draft_data` turns it into the dict the experiment
services validate, and `draft_from_experiment` turns a stored experiment back into the same text, so
saving an unchanged form changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.engine.params import KNOWN_PARAMS, NUMERIC_PARAMS
from apps.engine.templating import item_variables
from apps.experiments.secrets import scoring_config_masked

TOP_FIELDS = ("name", "description", "repeats", "budget_tokens", "budget_usd", "alpha")
PARAM_FIELDS = ("temperature", "top_p", "max_tokens", "seed")
STAGE_FIELDS = ("name", "endpoint", "model", "system_prompt", "prompt_template", *PARAM_FIELDS, "extra")
SCORER_FIELDS = ("type", "name", "weight", "options")
AXIS_FIELDS = ("path", "mode", "values", "min", "max", "step", "distribution")
SECTIONS = {"stage": STAGE_FIELDS, "scorer": SCORER_FIELDS, "axis": AXIS_FIELDS}
STAGE_PATH_FIELDS = ("model", "endpoint", "system_prompt", "prompt_template")

_ROW_KEY = re.compile(r"^(stage|scorer|axis)-(\d{1,4})-(\w+)$")
_ACTION = re.compile(r"^(stage|scorer|axis)-(add|remove|up|down)(?:-(\d{1,4}))?$")
_AXIS_STAGE = re.compile(r"^stages\.(\d+)\.(.+)$")

Row = dict[str, str]


@dataclass
class Draft:
    """The builder's fields as text; `samples` are the sample items (the samples table owns their form)."""

    fields: Row
    stage: list[Row]
    scorer: list[Row]
    axis: list[Row]
    samples: list[dict] = field(default_factory=list)

    def rows(self, section: str) -> list[Row]:
        return getattr(self, section)

    def row_data(self, section: str, index: int) -> dict[str, str]:
        """One row as form data, keyed by its prefixed field names."""
        return {f"{section}-{index}-{name}": value for name, value in self.rows(section)[index].items()}


def _text(value: Any) -> str:
    # Browsers send textarea line breaks as CRLF; stored text keeps LF.
    return str(value).replace("\r\n", "\n")


def _blank_row(section: str) -> Row:
    return dict.fromkeys(SECTIONS[section], "")


def draft_new() -> Draft:
    """An empty experiment: one stage, no scorers, no axes, one repeat."""
    stage = {**_blank_row("stage"), "name": "stage1"}
    return Draft(fields={**dict.fromkeys(TOP_FIELDS, ""), "repeats": "1"}, stage=[stage], scorer=[], axis=[])


def draft_from_post(post: Mapping[str, Any]) -> Draft:
    rows: dict[str, list[Row]] = {}
    for section, names in SECTIONS.items():
        indexes = sorted({int(m.group(2)) for key in post if (m := _ROW_KEY.match(key)) and m.group(1) == section})
        rows[section] = [{name: _text(post.get(f"{section}-{i}-{name}", "")) for name in names} for i in indexes]
    fields = {name: _text(post.get(name, "")) for name in TOP_FIELDS}
    return Draft(fields=fields, **rows)


def draft_from_experiment(experiment) -> Draft:
    """The stored experiment as the form shows it (secret scorer options masked, as the API shows them)."""
    fields = {
        "name": experiment.name, "description": experiment.description, "repeats": str(experiment.repeats),
        "budget_tokens": _number_text(experiment.budget_tokens), "budget_usd": _number_text(experiment.budget_usd),
        "alpha": _number_text(((experiment.scoring_config or {}).get("significance") or {}).get("alpha")),
    }
    scorers = scoring_config_masked(experiment.scoring_config).get("scorers") or []
    return Draft(fields=fields, stage=[_stage_row(s) for s in experiment.pipeline_stages],
                 scorer=[_scorer_row(s) for s in scorers], axis=[_axis_row(a) for a in experiment.parameter_space],
                 samples=list(experiment.sample_data))


def _number_text(value: Any) -> str:
    return "" if value is None else str(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""


def _stage_row(stage: dict) -> Row:
    params = dict(stage.get("params") or {})
    row = {name: _text(stage.get(name) or "") for name in ("name", "endpoint", "model", "system_prompt",
                                                         "prompt_template")}
    row.update({name: _number_text(params.pop(name, None)) for name in PARAM_FIELDS})
    row["extra"] = _json_text(params)
    return row


def _scorer_row(scorer: dict) -> Row:
    return {"type": scorer.get("type") or "", "name": scorer.get("name") or "",
            "weight": _number_text(scorer.get("weight")), "options": _json_text(scorer.get("options"))}


def _axis_row(axis: dict) -> Row:
    row = _blank_row("axis")
    row["path"] = axis.get("path") or ""
    if "values" in axis:
        row.update(mode="values", values=_values_text(axis["values"], numeric=_numeric_path(row["path"])))
    else:
        row.update(mode="range", distribution=axis.get("distribution") or "",
                   **{key: _number_text(axis.get(key)) for key in ("min", "max", "step")})
    return row


def _numeric_path(path: str) -> bool:
    return path.rpartition(".params.")[2] in NUMERIC_PARAMS if ".params." in path else False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _values_text(values: list, *, numeric: bool) -> str:
    """Numbers as a comma list, plain one-line strings one per line, anything else as a JSON list."""
    if numeric and all(_is_number(v) for v in values):
        return ", ".join(str(v) for v in values)
    plain = all(isinstance(v, str) and v and v == v.strip() and "\n" not in v and not _is_number(_number(v))
                for v in values)
    if plain and not (values and values[0].startswith("[")):
        return "\n".join(values)
    return json.dumps(values, ensure_ascii=False)


def _number(text: str) -> Any:
    """An int or float when `text` reads as one, else the text (the service then names the problem)."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _optional_number(text: str) -> Any:
    return None if not text.strip() else _number(text)


def _json_object(text: str) -> Any:
    """A JSON object from a textarea ({} when blank); unparsable text goes through as is, for the service to refuse."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _values_parse(text: str, path: str) -> list:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    if _numeric_path(path):
        return [_number(part) for part in re.split(r"[,\s]+", stripped) if part]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if ".params." in path:  # a provider extra: numbers where they read as numbers
        return [_number(line) for line in lines]
    return lines


def draft_data(draft: Draft) -> dict:
    """The experiment fields for `experiment_create` / `experiment_update` (a full replacement)."""
    top = draft.fields
    data: dict[str, Any] = {
        "name": top["name"], "description": top["description"], "sample_data": draft.samples,
        "pipeline_stages": [_stage_data(row) for row in draft.stage],
        "scoring_config": {"scorers": [_scorer_data(row) for row in draft.scorer],
                           **({"significance": {"alpha": _number(top["alpha"])}} if top["alpha"].strip() else {})},
        "parameter_space": [_axis_data(row) for row in draft.axis],
        "budget_tokens": _optional_number(top["budget_tokens"]), "budget_usd": _optional_number(top["budget_usd"]),
    }
    if top["repeats"].strip():
        data["repeats"] = _number(top["repeats"])
    return data


def _stage_data(row: Row) -> dict:
    params = _json_object(row["extra"])
    if isinstance(params, dict):
        params.update({name: _number(row[name]) for name in PARAM_FIELDS if row[name].strip()})
    stage = {"endpoint": row["endpoint"] or None, "model": row["model"], "system_prompt": row["system_prompt"],
             "prompt_template": row["prompt_template"], "params": params}
    return {"name": row["name"].strip(), **stage} if row["name"].strip() else stage


def _scorer_data(row: Row) -> dict:
    scorer: dict[str, Any] = {"type": row["type"]}
    if row["name"].strip():
        scorer["name"] = row["name"].strip()
    if row["weight"].strip():
        scorer["weight"] = _number(row["weight"])
    scorer["options"] = _json_object(row["options"])
    return scorer


def _axis_data(row: Row) -> dict:
    mode = row["mode"] or ("range" if row["min"].strip() or row["max"].strip() else "values")
    if mode != "range":
        return {"path": row["path"], "values": _values_parse(row["values"], row["path"])}
    axis: dict[str, Any] = {"path": row["path"]}
    for key in ("min", "max", "step"):
        if row[key].strip():
            axis[key] = _number(row[key])
    if row["distribution"]:
        axis["distribution"] = row["distribution"]
    return axis


def draft_json_errors(draft: Draft) -> dict[str, list[str]]:
    """Why a JSON textarea did not parse, keyed by the path the service blames (it can only say "not an object")."""
    found = {}
    for section, name, path in (("stage", "extra", "pipeline_stages.{}.params"),
                                ("scorer", "options", "scoring_config.scorers.{}.options")):
        for index, row in enumerate(draft.rows(section)):
            try:
                json.loads(row[name]) if row[name].strip() else None
            except ValueError as exc:
                found[path.format(index)] = [f"Not valid JSON ({exc})."]
    return found


def draft_act(draft: Draft, action: str) -> bool:
    """Apply a row action (`stage-add`, `stage-remove-1`, `axis-up-0`, …); False when `action` is none."""
    match = _ACTION.match(action or "")
    if not match:
        return False
    section, verb, index = match.group(1), match.group(2), int(match.group(3) or 0)
    rows = draft.rows(section)
    order = list(range(len(rows)))
    if verb == "add":
        rows.append(_new_row(draft, section))
        return True
    if not 0 <= index < len(rows):
        return True
    if verb == "remove":
        order.pop(index)
    else:
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(rows):
            order[index], order[other] = order[other], order[index]
    rows[:] = [rows[i] for i in order]
    if section == "stage":
        _renumber_axes(draft, {old: new for new, old in enumerate(order)})
    return True


def _new_row(draft: Draft, section: str) -> Row:
    row = _blank_row(section)
    if section == "stage":
        taken = {r["name"] for r in draft.stage}
        row["name"] = next(f"stage{n}" for n in range(len(taken) + 1, len(taken) + 1000) if f"stage{n}" not in taken)
        if draft.stage:  # the next stage usually calls the same endpoint
            row["endpoint"], row["model"] = draft.stage[-1]["endpoint"], draft.stage[-1]["model"]
    elif section == "scorer":
        row["weight"] = "1"
    else:
        row["mode"] = "values"
    return row


def _renumber_axes(draft: Draft, moved: dict[int, int]) -> None:
    """Axes follow their stage when stages move; a removed stage's axes go with it."""
    kept = []
    for row in draft.axis:
        match = _AXIS_STAGE.match(row["path"])
        if match and int(match.group(1)) not in moved:
            continue
        if match:
            row["path"] = f"stages.{moved[int(match.group(1))]}.{match.group(2)}"
        kept.append(row)
    draft.axis[:] = kept


def axis_paths(draft: Draft) -> list[tuple[str, str]]:
    """(path, label) of every field an axis may sweep, stage by stage (see apps.experiments.validation)."""
    choices = []
    for index, row in enumerate(draft.stage):
        extra = _json_object(row["extra"])
        params = [*NUMERIC_PARAMS, *sorted(KNOWN_PARAMS - set(NUMERIC_PARAMS))]
        params += [name for name in extra if name not in params] if isinstance(extra, dict) else []
        label = f"Stage {index + 1} ({row['name'] or 'unnamed'})"
        choices += [(f"stages.{index}.{name}", f"{label}: {name.replace('_', ' ')}") for name in STAGE_PATH_FIELDS]
        choices += [(f"stages.{index}.params.{name}", f"{label}: {name}") for name in params]
    return choices


def stage_variables(draft: Draft, index: int, items: list[dict]) -> list[str]:
    """What stage `index`'s template may read: the items' common variables, then earlier stages' outputs."""
    names = [set(item_variables(item)) for item in items if isinstance(item, dict)]
    common = sorted(set.intersection(*names)) if names else []
    shown = [f"{{{{ {name} }}}}" for name in common]
    if index > 0:
        shown.append("{{ previous }}")
        shown += [f"{{{{ stages.{row['name']}.output }}}}" for row in draft.stage[:index] if row["name"]]
    return shown


@dataclass
class RoutedErrors:
    """Service errors sorted to where the page shows them."""

    top: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[tuple[str, int], dict[str | None, list[str]]] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def row(self, section: str, index: int) -> dict[str | None, list[str]]:
        return self.rows.get((section, index), {})


_SECTION_OF = {"pipeline_stages": "stage", "scoring_config.scorers": "scorer", "parameter_space": "axis"}
_ROW_FIELDS = {"stage": set(STAGE_FIELDS) - {"extra"}, "scorer": set(SCORER_FIELDS), "axis": set(AXIS_FIELDS)}
_ERROR_PATH = re.compile(r"^(pipeline_stages|scoring_config\.scorers|parameter_space)\.(\d+)(?:\.(.+))?$")


def errors_route(errors: Mapping[str, list[str]]) -> RoutedErrors:
    """`pipeline_stages.1.prompt_template` → stage 1's template field, and so on; the rest to its section."""
    routed = RoutedErrors()
    for path, messages in errors.items():
        match = _ERROR_PATH.match(path)
        if match:
            section, index, rest = _SECTION_OF[match.group(1)], int(match.group(2)), match.group(3) or ""
            name, note = _row_field(section, rest)
            target = routed.rows.setdefault((section, index), {}).setdefault(name, [])
            target += [f"{note}: {m}" if note else m for m in messages]
        elif path.startswith("sample_data"):
            routed.samples[path] = list(messages)
        elif path in TOP_FIELDS:
            routed.top[path] = list(messages)
        elif path.startswith("scoring_config.significance"):
            routed.top.setdefault("alpha", []).extend(messages)
        elif path in ("pipeline_stages", "scoring_config", "scoring_config.scorers", "parameter_space"):
            routed.sections.setdefault(_SECTION_OF.get(path, "scorer"), []).extend(messages)
        else:
            routed.other += [f"{path}: {m}" for m in messages]
    return routed


def _row_field(section: str, rest: str) -> tuple[str | None, str]:
    """(form field, the part of the path the message should name) for the path inside one row."""
    head, _, tail = rest.partition(".")
    if section == "stage" and head == "params":
        name, _, deeper = tail.partition(".")
        return (name, deeper) if name in PARAM_FIELDS else ("extra", tail)
    if section == "scorer" and head == "options":
        return "options", tail
    if section == "axis" and head == "values":
        return "values", f"value {int(tail.split('.')[0]) + 1}" if tail[:1].isdigit() else tail
    if head in _ROW_FIELDS[section]:
        return head, tail
    return None, rest

