"""The builder's sample-data table: stored items → an editable table → posted fields → items again.

The partial ``web/experiments/samples.html#experiment-samples`` renders a `SamplesTable`
(`samples_table(items, errors=...)`). Its fields are named ``samples-…`` so they never clash with the
builder's; its buttons post ``samples_action`` (add/remove a row or column, page, import a file, accept or
discard the import preview), either to the builder's own view or, with htmx, to ``web:samples_edit``.
`samples_action(request)` answers such a post with the new table; `samples_from_post(data)` reads a save.

Decisions:
- Text stays text. A cell holds a JSON value only when it is marked so: the input's "JSON object" checkbox
  (the person ticks it, or it comes ticked because the stored or imported input is an object), and a hidden
  marker on reference, expected or variable cells whose stored or imported value is not a string.
- A marked cell that does not parse (or an input that is not an object) is refused by `samples_action`,
  which returns the table with the error next to the cell, so the builder saves nothing; `samples_from_post`
  itself never raises and keeps such a cell as text.
- Blank cells are left out of the item (a blank id is assigned by the service); a row with every cell blank
  is dropped. Columns other than id/input/reference/expected are the item's `vars`.
- The table shows one page of rows at a time (fewer per page the more columns, to keep a post far below
  DATA_UPLOAD_MAX_NUMBER_FIELDS); the other rows travel in one hidden JSON field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict

from apps.web.sample_files import ACCEPT, SampleFileInvalid, sample_file_items, sample_file_limit

FIELDS = ("id", "input", "reference", "expected")
PREFIX = "samples"
ACTION = "samples_action"
PREVIEW_ROWS = 20
MAX_FIELDS_PER_PAGE = 600
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
RESERVED = {*FIELDS, "vars", "item", "previous", "stages"}

Draft = dict[str, Any]  # {"id": text, "input": text, ..., "vars": {column: text}, "json": [marked cells]}


@dataclass
class Cell:
    name: str  # the form field's name
    key: str  # the cell's name within its row ("input", "v0" …), the value of its JSON marker
    label: str
    value: str
    json: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def multiline(self) -> bool:
        return self.key in ("input", "reference", "expected")


@dataclass
class Row:
    number: int  # 1-based, as people count
    index: int  # position on this page, the form's row index
    cells: list[Cell]  # id, input, reference, expected, then one per variable column
    errors: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{PREFIX}-{self.index}"


@dataclass
class SamplesPreview:
    """A parsed file waiting for "Replace the table", "Append" or "Discard"; nothing is in the table yet."""

    name: str
    items: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def shown(self) -> list[dict]:
        return [{"number": number, **{name: _text(item[name]) for name in FIELDS if name in item},
                 "vars": ", ".join(f"{key}={_text(value)}" for key, value in item.get("vars", {}).items())}
                for number, item in enumerate(self.items[:PREVIEW_ROWS], start=1)]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def payload(self) -> str:
        return json.dumps({"name": self.name, "items": self.items}, ensure_ascii=False)


@dataclass
class SamplesTable:
    """What the partial renders: one page of editable rows, the columns, the rest as hidden JSON, errors."""

    rows: list[Row]
    columns: list[str]
    total: int
    offset: int
    per_page: int
    hidden: str  # JSON of the rows on other pages
    errors: list[str] = field(default_factory=list)
    preview: SamplesPreview | None = None
    accept: str = ACCEPT
    max_bytes: int = 0

    @property
    def pages(self) -> list[dict]:
        count = max(1, -(-self.total // self.per_page))
        return [{"number": n + 1, "offset": n * self.per_page, "current": n * self.per_page == self.offset}
                for n in range(count)] if count > 1 else []

    @property
    def has_errors(self) -> bool:
        cells = (cell for row in self.rows for cell in row.cells)
        return bool(self.errors or any(row.errors for row in self.rows) or any(cell.errors for cell in cells)
                    or (self.preview and self.preview.errors))

    @property
    def first(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)


def samples_table(items: list[dict], *, errors: dict[str, list[str]] | None = None,
                  preview: SamplesPreview | None = None, offset: int | None = None) -> SamplesTable:
    """The table of stored `items` with the service's `errors` (``sample_data[.<i>[.<field>]]``) placed on them."""
    return _table([_draft(item) for item in items], columns=_columns(items), errors=errors or {},
                  preview=preview, offset=offset)


def samples_from_post(data: QueryDict) -> list[dict]:
    """The items of a posted table, blank rows dropped (the caller's service validates them)."""
    drafts, _ = _posted(data)
    return [item for draft in drafts if (item := _item(draft)[0])]


def samples_action(request: HttpRequest) -> SamplesTable | None:
    """The table after a table action (or after a refused cell); None for a post that is a save."""
    data = request.POST
    drafts, columns = _posted(data)
    offset = _int(data.get(f"{PREFIX}-offset"))
    preview = _preview_posted(data)
    problems: dict[str, list[str]] = {}
    verb, _, argument = data.get(ACTION, "").partition("-")
    if verb == "import":
        preview = _preview_upload(request)
    elif verb in ("replace", "append") and preview and preview.items:
        kept = [draft for draft in drafts if _item(draft)[0]] if verb == "append" else []
        if len(kept) + len(preview.items) > settings.MAX_SAMPLE_ITEMS:
            problems["sample_data"] = [f"At most {settings.MAX_SAMPLE_ITEMS:,} items are allowed."]
        else:
            columns = _merge_columns(columns if kept else [], _columns(preview.items))
            drafts, offset = kept + [_draft(item) for item in preview.items], len(kept)
            preview = None
    elif verb == "discard":
        preview = None
    elif verb == "add" and argument == "row":
        drafts.append({})
        offset = len(drafts) - 1
    elif verb == "remove" and argument.startswith("row-") and 0 <= (row := _int(argument[4:])) < len(drafts):
        del drafts[row]
    elif verb == "add" and argument == "column":
        name = data.get(f"{PREFIX}-new-column", "").strip()
        problem = _column_problem(name, columns)
        if problem:
            problems["sample_data.columns"] = [problem]
        else:
            columns.append(name)
    elif verb == "remove" and argument.startswith("column-") and 0 <= (col := _int(argument[7:])) < len(columns):
        name = columns.pop(col)
        for draft in drafts:
            draft.get("vars", {}).pop(name, None)
            draft["json"] = [marked for marked in draft.get("json", []) if marked != f"vars.{name}"]
    elif verb == "page":
        offset = _int(argument)
    errors = _marked_cell_errors(drafts)
    if not verb and not errors:
        return None
    return _table(drafts, columns=columns, errors={**errors, **problems}, preview=preview, offset=offset)


# Items ⇄ drafts (every cell as text, plus which cells hold JSON)

def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _draft(item: dict) -> Draft:
    draft: Draft = {"json": []}
    for name in FIELDS:
        if name in item:
            draft[name] = _text(item[name])
            if not isinstance(item[name], str) and name != "id":
                draft["json"].append(name)
    variables = item.get("vars") if isinstance(item.get("vars"), dict) else {}
    draft["vars"] = {key: _text(value) for key, value in variables.items()}
    draft["json"] += [f"vars.{key}" for key, value in variables.items() if not isinstance(value, str)]
    return draft


def _item(draft: Draft) -> tuple[dict | None, dict[str, list[str]]]:
    """The item a draft row stands for (None when blank) and the errors of its marked cells."""
    item: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    marked = set(draft.get("json", []))
    cells = [(name, draft.get(name, "")) for name in FIELDS]
    cells += [(f"vars.{key}", value) for key, value in draft.get("vars", {}).items()]
    for path, text in cells:
        if not text.strip():
            continue
        value: Any = text.strip() if path == "id" else text
        if path in marked:
            try:
                value = json.loads(text)
            except ValueError as exc:
                errors[path] = [f"Not valid JSON ({exc})."]
            except RecursionError:
                errors[path] = ["The JSON is nested too deeply."]
            else:
                if path == "input" and not isinstance(value, dict):
                    errors[path] = ['Marked as a JSON object but is not one (an object starts with "{").']
        head, _, key = path.partition(".")
        if head == "vars":
            item.setdefault("vars", {})[key] = value
        else:
            item[head] = value
    return item or None, errors


def _marked_cell_errors(drafts: list[Draft]) -> dict[str, list[str]]:
    return {f"sample_data.{index}.{path}": messages
            for index, draft in enumerate(drafts) for path, messages in _item(draft)[1].items()}


def _columns(items: list[dict]) -> list[str]:
    columns: dict[str, None] = {}
    for item in items:
        if isinstance(item.get("vars"), dict):
            columns.update(dict.fromkeys(item["vars"]))
    return list(columns)


def _merge_columns(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _column_problem(name: str, columns: list[str]) -> str | None:
    if not COLUMN_NAME.match(name):
        return "Name the new column with letters, digits and underscores (not starting with a digit)."
    if name in RESERVED:
        return f"'{name}' is a built-in name; choose another."
    if name in columns:
        return f"There is already a column '{name}'."
    return None


# The posted form

def _int(raw: Any) -> int:
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return 0


def _posted(data: QueryDict) -> tuple[list[Draft], list[str]]:
    """The posted rows (this page's fields spliced into the hidden rest) and columns."""
    columns = [name for name in data.getlist(f"{PREFIX}-col") if name]
    rows = []
    for index in range(min(_int(data.get(f"{PREFIX}-rows")), settings.MAX_SAMPLE_ITEMS)):
        prefix = f"{PREFIX}-{index}"
        marked = set(data.getlist(f"{prefix}-json"))
        draft: Draft = {name: _cell(data, f"{prefix}-{name}") for name in FIELDS}
        draft["vars"] = {name: _cell(data, f"{prefix}-v{col}") for col, name in enumerate(columns)}
        draft["json"] = [name for name in FIELDS if name in marked]
        draft["json"] += [f"vars.{name}" for col, name in enumerate(columns) if f"v{col}" in marked]
        rows.append(draft)
    rest = _hidden_drafts(data.get(f"{PREFIX}-hidden", ""))
    offset = min(_int(data.get(f"{PREFIX}-offset")), len(rest))
    return rest[:offset] + rows + rest[offset:], columns


def _cell(data: QueryDict, name: str) -> str:
    return data.get(name, "").replace("\r\n", "\n")  # browsers send a textarea's line breaks as CRLF


def _hidden_drafts(raw: str) -> list[Draft]:
    try:
        drafts = json.loads(raw) if raw else []
    except (ValueError, RecursionError):
        return []
    if not isinstance(drafts, list):
        return []
    clean = []
    for draft in drafts[:settings.MAX_SAMPLE_ITEMS]:
        if isinstance(draft, dict):
            variables = draft.get("vars") if isinstance(draft.get("vars"), dict) else {}
            marked = draft.get("json") if isinstance(draft.get("json"), list) else []
            clean.append({**{name: str(draft.get(name, "")) for name in FIELDS},
                          "vars": {str(k): str(v) for k, v in variables.items()},
                          "json": [str(name) for name in marked]})
    return clean


def _preview_posted(data: QueryDict) -> SamplesPreview | None:
    try:
        payload = json.loads(data.get(f"{PREFIX}-preview") or "null")
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        return None
    items = [item for item in payload["items"] if isinstance(item, dict) and "input" in item]
    return SamplesPreview(name=str(payload.get("name", "")), items=items)


def _preview_upload(request: HttpRequest) -> SamplesPreview:
    upload = request.FILES.get(f"{PREFIX}-file")
    if upload is None:
        return SamplesPreview(name="", errors=["Choose a file to import."])
    if upload.size > sample_file_limit():
        return SamplesPreview(name=upload.name, errors=[f"The file is larger than the {sample_file_limit():,} "
                                                        "byte limit."])
    try:
        return SamplesPreview(name=upload.name, items=sample_file_items(name=upload.name, content=upload.read()))
    except SampleFileInvalid as exc:
        return SamplesPreview(name=upload.name, errors=exc.messages)


# The table the partial renders

def _per_page(columns: list[str]) -> int:
    return max(5, min(50, MAX_FIELDS_PER_PAGE // (len(FIELDS) + 2 + len(columns))))


def _table(drafts: list[Draft], *, columns: list[str], errors: dict[str, list[str]],
           preview: SamplesPreview | None, offset: int | None) -> SamplesTable:
    per_page = _per_page(columns)
    table_errors, row_errors, cell_errors = _place_errors(errors, columns)
    if offset is None:  # open on the page of the first row with an error
        offset = min(row_errors.keys() | {index for index, _ in cell_errors}, default=0)
    offset = min(offset, max(0, len(drafts) - 1)) // per_page * per_page
    rows = []
    for position, draft in enumerate(drafts[offset:offset + per_page]):
        index = offset + position
        number, prefix = index + 1, f"{PREFIX}-{position}"
        marked = set(draft.get("json", []))
        cells = [Cell(name=f"{prefix}-{name}", key=name, label=f"Row {number} {name}", value=draft.get(name, ""),
                      json=name in marked, errors=cell_errors.get((index, name), [])) for name in FIELDS]
        cells += [Cell(name=f"{prefix}-v{col}", key=f"v{col}", label=f"Row {number} {name}",
                       value=draft.get("vars", {}).get(name, ""), json=f"vars.{name}" in marked,
                       errors=cell_errors.get((index, f"vars.{name}"), []))
                  for col, name in enumerate(columns)]
        rows.append(Row(number=number, index=position, cells=cells, errors=row_errors.get(index, [])))
    shown = range(offset, offset + len(rows))
    # Errors on rows of other pages are listed above the table so that none goes unseen.
    elsewhere = [f"Row {index + 1}: {message}" for index, messages in sorted(row_errors.items())
                 if index not in shown for message in messages]
    elsewhere += [f"Row {index + 1} {name}: {message}" for (index, name), messages in sorted(cell_errors.items())
                  if index not in shown for message in messages]
    rest = drafts[:offset] + drafts[offset + per_page:]
    return SamplesTable(rows=rows, columns=columns, total=len(drafts), offset=offset, per_page=per_page,
                        hidden=json.dumps(rest, ensure_ascii=False) if rest else "",
                        errors=table_errors + elsewhere, preview=preview, max_bytes=sample_file_limit())


def _place_errors(errors: dict[str, list[str]], columns: list[str]):
    """Split ``sample_data…`` errors into the table's, each row's and each cell's (other keys are not ours)."""
    table: list[str] = []
    rows: dict[int, list[str]] = {}
    cells: dict[tuple[int, str], list[str]] = {}
    for path, messages in errors.items():
        head, _, rest = path.partition(".")
        if head != "sample_data":
            continue
        index, _, cell = rest.partition(".")
        if not index.isdigit():
            table += [f"{rest}: {m}" if rest and rest != "columns" else m for m in messages]
        elif cell in FIELDS or (cell.startswith("vars.") and cell[5:] in columns):
            cells.setdefault((int(index), cell), []).extend(messages)
        else:
            rows.setdefault(int(index), []).extend(f"{cell}: {m}" if cell else m for m in messages)
    return table, rows, cells
