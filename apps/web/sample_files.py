"""Sample files a person imports into the builder's table: JSON, JSONL, CSV and YAML, parsed into sample items.

Pure parsing, no database: `sample_file_items(name=, content=)` returns the items or raises SampleFileInvalid
whose messages name the row (1-based, as the table numbers them) or the line and column the parser reports.
An item has the service's shape (apps/experiments/validation.py): keys other than id/input/reference/expected/vars
become template variables in `vars`, as a CSV's extra columns do. The service still validates on save.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import yaml
from django.conf import settings

from apps.core.jsonsafety import UnsafeJSON, check_json

FIELDS = ("id", "input", "reference", "expected")
FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
ACCEPT = ",".join(FORMATS)
MAX_MESSAGES = 20


class SampleFileInvalid(ValueError):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def sample_file_limit() -> int:
    """The largest file accepted: the same cap as a request body."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def sample_file_items(*, name: str, content: bytes) -> list[dict]:
    """The sample items in a file, by its extension; SampleFileInvalid says what is wrong and where."""
    limit = sample_file_limit()
    if len(content) > limit:
        raise SampleFileInvalid([f"The file is larger than the {limit:,} byte limit."])
    kind = next((fmt for ext, fmt in FORMATS.items() if name.lower().endswith(ext)), None)
    if kind is None:
        raise SampleFileInvalid(["Choose a .json, .jsonl, .csv or .yaml file."])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleFileInvalid([f"The file is not UTF-8 text (byte {exc.start + 1})."]) from None
    if not text.strip():
        raise SampleFileInvalid(["The file is empty."])
    entries = {"json": _json_entries, "jsonl": _jsonl_entries, "csv": _csv_entries, "yaml": _yaml_entries}[kind](text)
    return _items(entries)


def _json_entries(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SampleFileInvalid([f"Line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})."]) from None
    except RecursionError:
        raise SampleFileInvalid(["The JSON is nested too deeply."]) from None
    return _entry_list(data)


def _jsonl_entries(text: str) -> list[Any]:
    entries, messages = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as exc:
            messages.append(f"Line {number}: not valid JSON ({exc.msg} at column {exc.colno}).")
        except RecursionError:
            messages.append(f"Line {number}: the JSON is nested too deeply.")
    _raise_any(messages)
    return entries


def _csv_entries(text: str) -> list[Any]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
        if "input" not in header:
            raise SampleFileInvalid(["The first row must be a header with an 'input' column."])
        blank = [str(column) for column, cell in enumerate(header, start=1) if not cell]
        repeated = sorted({cell for cell in header if cell and header.count(cell) > 1})
        problems = ([f"Header: column {', '.join(blank)} has no name."] if blank else []) + [
            f"Header: '{cell}' appears more than once." for cell in repeated]
        if "vars" in header:
            problems.append("Header: name each variable's column instead of a 'vars' column.")
        _raise_any(problems)
        entries, messages = [], []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line is not a row
            row = len(entries) + 1
            if len(cells) > len(header):
                messages.append(f"Row {row} (line {reader.line_num}): {len(cells)} cells but the header has "
                                f"{len(header)}.")
            entry: dict[str, Any] = {}
            for column, cell in zip(header, cells, strict=False):
                if column in FIELDS:
                    entry[column] = cell
                elif cell != "":
                    entry.setdefault("vars", {})[column] = cell
            entries.append(entry)
    except csv.Error as exc:
        raise SampleFileInvalid([f"Line {reader.line_num}: not valid CSV ({exc})."]) from None
    _raise_any(messages)
    return entries


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: an alias "bomb" would expand without bound when copied to JSON."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _yaml_entries(text: str) -> list[Any]:
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"Line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SampleFileInvalid([f"{where}not valid YAML ({problem})."]) from None
    # Dates and other YAML-only types become text, as they would in any JSON the API receives.
    return _entry_list(json.loads(json.dumps(data, default=str)))


def _entry_list(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("items", data.get("sample_data")), list):
        data = data.get("items", data.get("sample_data"))
    if not isinstance(data, list):
        raise SampleFileInvalid(["The file must hold a list of items (or an object with an 'items' list)."])
    return data


def _items(entries: list[Any]) -> list[dict]:
    limit = settings.MAX_SAMPLE_ITEMS
    if len(entries) > limit:
        raise SampleFileInvalid([f"The file has {len(entries):,} items; at most {limit:,} are allowed."])
    try:
        check_json(entries, max_depth=settings.MAX_JSON_DEPTH)
    except UnsafeJSON as exc:
        row, _, rest = exc.path.partition(".")
        where = f"Row {int(row) + 1}" if row.isdigit() else "The file"
        raise SampleFileInvalid([f"{where}: {rest + ' ' if rest else ''}{exc.message}."]) from None
    items, messages, seen = [], [], {}
    for row, entry in enumerate(entries, start=1):
        item, problem = _item(entry)
        if problem:
            messages.append(f"Row {row}: {problem}.")
            continue
        if "id" in item:
            if str(item["id"]) in seen:
                messages.append(f"Row {row}: id '{item['id']}' is already used by row {seen[str(item['id'])]}.")
            seen.setdefault(str(item["id"]), row)
        items.append(item)
    _raise_any(messages)
    return items


def _item(entry: Any) -> tuple[dict, str | None]:
    if isinstance(entry, str):
        entry = {"input": entry}
    if not isinstance(entry, dict):
        return {}, "must be an object with an 'input', or a string"
    item = {key: entry[key] for key in FIELDS if key in entry}
    extra = {key: value for key, value in entry.items() if key not in FIELDS and key != "vars"}
    variables = entry.get("vars", {})
    if not isinstance(variables, dict):
        return {}, "'vars' must be an object of template variables"
    if extra or variables:
        item["vars"] = {**extra, **variables}
    value = item.get("input")
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}, "'input' is empty"
    if not isinstance(value, (str, dict)):
        return {}, "'input' must be text or an object"
    if "id" in item and (isinstance(item["id"], bool) or not isinstance(item["id"], (str, int))
                         or not str(item["id"]).strip()):
        return {}, "'id' must be text or a whole number"
    if isinstance(item.get("id"), str):
        item["id"] = item["id"].strip()
    return {key: value for key, value in item.items() if not (key in ("id", "reference", "expected")
                                                              and value == "")}, None


def _raise_any(messages: list[str]) -> None:
    if len(messages) > MAX_MESSAGES:
        messages = [*messages[:MAX_MESSAGES], f"…and {len(messages) - MAX_MESSAGES} more."]
    if messages:
        raise SampleFileInvalid(messages)
