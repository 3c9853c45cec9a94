"""What the labelled-data scorers share: where an item's expected value comes from, and text normalisation.

`expected` option (every labelled scorer; `pattern` for `regex`): a field path such as `expected`,
`expected.label` or `answer` (looked up among the item's template variables, then its own fields;
dots descend into objects and lists), or a template such as `Answer: {{ expected }}` rendered in
the prompt sandbox with the item's variables and `item`. Default `expected`, falling back to
`reference` when the item has no `expected`.

Normalisation options (`normalize_options`), applied to the output and the expected text alike:
`case_sensitive` (default false: Unicode case folding), `collapse_whitespace` (default true: runs of
whitespace become one space, ends trimmed), `ignore_punctuation` (default false: Unicode punctuation
removed), `strip_prefix` (a string or list such as "Answer:", removed from the start, case rules as
above) and `first_line` (default false: only the first non-empty line counts). Text is always NFKC-
normalised first, so full-width digits and compatibility forms compare equal to their plain forms.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from apps.engine import templating
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, ScorerError

NORMALIZE_OPTIONS = ("case_sensitive", "collapse_whitespace", "ignore_punctuation", "strip_prefix", "first_line")
MAX_SOURCE_CHARS = 2000
MAX_PREFIXES = 20
MAX_TEXT_CHARS = 100_000
FIELD_PATH = re.compile(r"^[\w-]+(\.[\w-]+)*$")
_SPACE = re.compile(r"\s+")
_NO_VALUE = object()


def is_template(source: str) -> bool:
    return "{{" in source or "{%" in source


def source_option(options: dict, name: str = "expected", default: str = "expected", hint: str = "") -> str:
    """A validated field path or template for where the expected value comes from."""
    source = opt.text(options, name, default=default, max_chars=MAX_SOURCE_CHARS).strip()
    if is_template(source):
        try:
            templating.template_variables(source, stage=name)
        except templating.TemplateError as exc:
            raise OptionsInvalid(name, f"Not a valid template: {exc.message}") from None
    elif not FIELD_PATH.match(source):
        raise OptionsInvalid(name, "Give a field name such as `expected` or `expected.label`, "
                                   "or a template such as `{{ expected }}`." + hint)
    return source


def _field(item: dict, path: str) -> Any:
    head, *rest = path.split(".")
    variables = templating.item_variables(item)
    value = variables.get(head, item.get(head, _NO_VALUE))
    if value is _NO_VALUE and path == "expected":
        value = item.get("reference", _NO_VALUE)
    for part in rest:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _NO_VALUE
    return value


def expected_value(item: dict, source: str) -> Any:
    """The item's expected value (any JSON value for a field, text for a template); ScorerError when missing."""
    if is_template(source):
        context = {**templating.item_variables(item), "item": item}
        try:
            return templating.render(source, context, stage="")
        except templating.TemplateError as exc:
            raise ScorerError(f"the expected value could not be rendered: {exc.message}") from None
    value = _field(item, source)
    if value is _NO_VALUE or value is None or value == "":
        raise ScorerError(f"item {item.get('id', '')!r} has no expected value (field `{source}`)")
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value if isinstance(value, str) else str(value)


def normalize_options(options: dict, *, punctuation: bool = False) -> dict[str, Any]:
    raw = options.get("strip_prefix")
    prefixes = [raw] if isinstance(raw, str) else raw
    if prefixes is None:
        prefixes = []
    if not isinstance(prefixes, list) or len(prefixes) > MAX_PREFIXES or not all(
            isinstance(p, str) and p.strip() and len(p) <= 200 for p in prefixes):
        raise OptionsInvalid("strip_prefix", f"Must be a string or a list of at most {MAX_PREFIXES} non-empty "
                                             "strings of at most 200 characters.")
    return {
        "case_sensitive": opt.flag(options, "case_sensitive", False),
        "collapse_whitespace": opt.flag(options, "collapse_whitespace", True),
        "ignore_punctuation": opt.flag(options, "ignore_punctuation", punctuation),
        "strip_prefix": [p.strip() for p in prefixes],
        "first_line": opt.flag(options, "first_line", False),
    }


def _fold(text: str, rules: dict) -> str:
    return text if rules["case_sensitive"] else text.casefold()


def normalize(text: str, rules: dict) -> str:
    """`text` as the normalisation rules compare it."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])
    if rules["first_line"]:
        text = next((line for line in text.splitlines() if line.strip()), "")
    text = text.strip()
    for prefix in rules["strip_prefix"]:
        prefix = unicodedata.normalize("NFKC", prefix)
        if _fold(text[:len(prefix)], rules) == _fold(prefix, rules):
            text = text[len(prefix):].lstrip()
            break
    text = _fold(text, rules)
    if rules["ignore_punctuation"]:
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    if rules["collapse_whitespace"]:
        text = _SPACE.sub(" ", text).strip()
    return text


def excerpt(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
