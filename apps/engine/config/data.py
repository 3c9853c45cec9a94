"""Sample data checks: items with ids, inputs, references and extra variables."""

from __future__ import annotations

from typing import Any

from apps.engine.config.fields import FieldChecks
from apps.engine.templating import item_variables

ITEM_KEYS = {"id", "input", "reference", "expected", "vars"}


class ItemNames:
    """The sample items' variable names and keys, to check that templates only read what all items have."""

    def __init__(self, items: list[dict] | None) -> None:
        self.known = bool(items)
        self.names = {
            "variables": [(item["id"], set(item_variables(item))) for item in items or []],
            "keys": [(item["id"], set(item)) for item in items or []],
        }
        # Most names are in every item or in none: only the rest need a scan for the first gap.
        self.common = {kind: set.intersection(*[n for _, n in v]) if v else set() for kind, v in self.names.items()}
        self.anywhere = {kind: set().union(*[n for _, n in v]) for kind, v in self.names.items()}

    def lacking(self, name: str, *, label: str, as_key: bool = False) -> str | None:
        """A message when some item lacks `name`, else None."""
        kind = "keys" if as_key else "variables"
        if name in self.common[kind]:
            return None
        if name not in self.anywhere[kind]:
            return f"unknown {label} (no sample item has it)"
        item_id = next(item_id for item_id, names in self.names[kind] if name not in names)
        return f"{label} is missing from item '{item_id}'"


class DataChecks(FieldChecks):
    max_items: int
    items: ItemNames

    def sample_data(self, raw: Any) -> list[dict]:
        if not isinstance(raw, list):
            self.errors.add("sample_data", "Must be a list of items.")
            return []
        if len(raw) > self.max_items:
            self.errors.add("sample_data", f"At most {self.max_items} items are allowed (got {len(raw)}).")
            return []
        items, valid, seen = [], True, set()
        for index, entry in enumerate(raw):
            item = self.sample_item(f"sample_data.{index}", {"input": entry} if isinstance(entry, str) else entry)
            valid = valid and item is not None
            items.append(item)
            if item and "id" in item:
                if item["id"] in seen:
                    self.errors.add(f"sample_data.{index}.id", f"Duplicate id '{item['id']}'.")
                    valid = False
                seen.add(item["id"])
        counter = 0
        for item in items if valid else []:
            if "id" not in item:
                counter += 1
                while str(counter) in seen:
                    counter += 1
                item["id"] = str(counter)
                seen.add(item["id"])
        self.items = ItemNames(items if valid else None)
        return [{"id": item.pop("id"), **item} for item in items] if valid else []

    def sample_item(self, path: str, raw: Any) -> dict | None:
        if not isinstance(raw, dict):
            self.errors.add(path, "Each item must be an object with an 'input' (or a string).")
            return None
        before = self.errors.total
        self.unknown_keys(path, raw, ITEM_KEYS)
        item: dict[str, Any] = {}
        if "id" in raw:
            value = raw["id"]
            if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
                self.errors.add(f"{path}.id", "Must be a non-empty string or an integer.")
            elif len(str(value)) > 200:
                self.errors.add(f"{path}.id", "Must be at most 200 characters.")
            else:
                item["id"] = str(value)
        if "input" not in raw:
            self.errors.add(f"{path}.input", "This field is required.")
        elif not isinstance(raw["input"], (str, dict)):
            self.errors.add(f"{path}.input", "Must be a string or an object.")
        else:
            item["input"] = raw["input"]
        for key in ("reference", "expected"):
            if key in raw:
                item[key] = raw[key]
        if "vars" in raw:
            if isinstance(raw["vars"], dict):
                item["vars"] = raw["vars"]
            else:
                self.errors.add(f"{path}.vars", "Must be an object of template variables.")
        return item if self.errors.total == before else None
