"""Sample items from a file beside the experiment YAML (CSV, JSONL, JSON or YAML), with the line of each item."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from apps.cli.yamlfile import FileError, Located, load_text

FIELDS = ("id", "input", "reference", "expected")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def samples_load(path: Path, *, name: str) -> Located:
    """The file's items as a Located list: lines[(i,)] is where item i starts."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise FileError(name, None, f"samples_file must be one of {', '.join(FORMATS)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(name, None, f"cannot read: {exc}") from None
    if kind == "yaml":
        located = load_text(text, file=name)
    elif kind == "jsonl":
        located = _jsonl(text, name)
    elif kind == "csv":
        located = _csv(text, name)
    else:
        try:
            located = Located(file=name, data=json.loads(text))
        except json.JSONDecodeError as exc:
            raise FileError(name, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if isinstance(located.data, dict) and isinstance(located.data.get("items"), list):
        located = Located(file=name, data=located.data["items"],
                          lines={key[1:]: line for key, line in located.lines.items() if key[:1] == ("items",)})
    if not isinstance(located.data, list):
        raise FileError(name, 1, "must hold a list of sample items")
    located.data = [_item(entry) for entry in located.data]
    return located


def _item(entry: Any) -> Any:
    """Keys other than the item fields become template variables, as the web app's import does."""
    if not isinstance(entry, dict):
        return entry
    item = {key: entry[key] for key in FIELDS if key in entry}
    extra = {key: value for key, value in entry.items() if key not in FIELDS and key != "vars"}
    variables = entry.get("vars", {})
    if extra or variables:
        item["vars"] = {**extra, **variables} if isinstance(variables, dict) else variables
    return item


def _jsonl(text: str, name: str) -> Located:
    items, lines = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise FileError(name, number, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        lines[(len(items) - 1,)] = number
    return Located(file=name, data=items, lines=lines)


def _csv(text: str, name: str) -> Located:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip() for cell in next(reader, [])]
    if "input" not in header:
        raise FileError(name, 1, "the first row must be a header with an 'input' column")
    items, lines = [], {}
    try:
        start = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    raise FileError(name, start, f"{len(cells)} cells but the header has {len(header)}")
                lines[(len(items),)] = start
                items.append({column: cell for column, cell in zip(header, cells, strict=False)
                              if cell != "" or column == "input"})
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileError(name, reader.line_num, f"invalid CSV: {exc}") from None
    return Located(file=name, data=items, lines=lines)
