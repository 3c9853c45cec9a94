"""Resource guards for prompt templates: operations that could build something big are sized first.

Operations that can amplify a value (``*``, ``%``, ``format``, ``center``, ``join``, ``batch``, ...)
are estimated *before* they run, using ``template_meter``'s sizes; every value an operation returns
is measured again and its bytes are charged to the render's budget, so no sequence of individually
small steps adds up to a big heap.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2.environment import Environment
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, safe_range

from apps.engine.template_meter import (
    MAX_LOOP_ITERATIONS,
    MAX_POWER_BITS,
    MAX_WALK_STEPS,
    TemplateProblem,
    admit,
    chars_of,
    current,
    ensure_fits,
    ensure_transient,
    tick,
)

_PERCENT_SPEC = re.compile(r"%(?:\(([^)]*)\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])?")
_BRACE_WIDTH = re.compile(r"(\d+)?[,_]?(?:\.(\d+))?[a-zA-Z%]?$")


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def percent_size(fmt: Any, args: Any) -> int:
    """Worst-case length of `fmt % args`, counting each conversion's argument and width."""
    if not isinstance(fmt, str):
        return 0
    total = len(fmt)
    position = 0
    single = not isinstance(args, (tuple, Mapping))
    for match in _PERCENT_SPEC.finditer(fmt):
        key, width, precision, kind = match.groups()
        if kind == "%":
            continue
        if "*" in (width, precision):
            raise TemplateProblem("'*' widths are not allowed in format strings")
        total += int(width or 0) + int(precision or 0)
        if key is not None and isinstance(args, Mapping):
            arg = args.get(key, "")
        elif single:
            arg = args if position == 0 else ""
        else:
            arg = args[position] if isinstance(args, tuple) and position < len(args) else ""
        position += 1
        total += chars_of((arg,) if kind in ("r", "a") else arg)
    return total


def brace_size(fmt: Any, args: tuple, kwargs: Mapping) -> int:
    """Worst-case length of `fmt.format(*args, **kwargs)`; nested `{}` in a format spec is refused."""
    if not isinstance(fmt, str):
        return 0
    total, auto, sizes = 0, 0, {}
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return 0  # a malformed format string; str.format raises its own error
    for literal, field, spec, conversion in fields:
        total += len(literal)
        if field is None:
            continue
        if spec and "{" in spec:
            raise TemplateProblem("nested '{}' in a format spec is not allowed in prompt templates")
        root = re.split(r"[.\[]", field, maxsplit=1)[0]
        if root == "":
            root, auto = str(auto), auto + 1
        if root not in sizes:
            arg = args[int(root)] if root.isdigit() and int(root) < len(args) else kwargs.get(root, "")
            sizes[root] = chars_of((arg,) if conversion in ("r", "a") else arg)
        width = _BRACE_WIDTH.search(spec or "")
        total += sizes[root] + sum(int(n) for n in (width.groups() if width else ()) if n)
    return total


def _replace_size(s: Any, old: Any, new: Any, count: Any = None) -> int:
    if not isinstance(s, str):
        return 0
    if not isinstance(old, str) or not isinstance(new, str):
        return len(s) + chars_of(old) + chars_of(new)  # turned into text first: size that text
    hits = len(s) + 1 if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * len(new)


def _join_size(sep: Any, items: list) -> int:
    return sum(chars_of(item) for item in items) + chars_of(sep) * len(items)


def _width(value: Any) -> int:
    return value if isinstance(value, int) else chars_of(value)


def _translate_size(s: Any, table: Any) -> int:
    longest = max((chars_of(v) for v in table.values()), default=1) if isinstance(table, Mapping) else 1
    return len(s) * max(longest, 1)


def _wrap_size(s: Any, width: Any, wrapstring: Any) -> int:
    text = str(s)
    lines = 2 * len(text) // max(_int(width), 1) + text.count("\n") + 1  # a wrapped line is at least half full
    return len(text) + lines * chars_of(wrapstring or "\n")


def _fill_chars(fill_with: Any) -> int:
    return 0 if fill_with is None else chars_of(fill_with)


# Worst-case output size of the string methods and filters that can amplify their input.
METHOD_SIZES = {
    "ljust": lambda s, width=0, *_: width,
    "rjust": lambda s, width=0, *_: width,
    "center": lambda s, width=0, *_: width,
    "zfill": lambda s, width=0: width,
    "expandtabs": lambda s, tabsize=8: len(s) + s.count("\t") * tabsize,
    "replace": _replace_size,
    "translate": _translate_size,
    "join": lambda s, items: _join_size(s, items),
    "format": lambda s, *args, **kwargs: brace_size(s, args, kwargs),
    "format_map": lambda s, mapping: brace_size(s, (), mapping),
}
FILTER_SIZES = {
    "replace": lambda ctx, s, old, new, count=None: _replace_size(s, old, new, count),
    "center": lambda value, width=80: _width(width),
    "indent": lambda s, width=4, *_, **__: len(str(s)) + (str(s).count("\n") + 1) * _width(width),
    "wordwrap": lambda env, s, width=79, brk=True, wrapstring=None, *_, **__: _wrap_size(s, width, wrapstring),
    "truncate": lambda env, s, length=255, killwords=False, end="...", *_, **__: chars_of(end)
    + min(length, chars_of(s)),
    "batch": lambda value, linecount, fill_with=None: _width(linecount) * (1 + _fill_chars(fill_with)),
    "slice": lambda value, slices, fill_with=None: _width(slices) * (1 + _fill_chars(fill_with)),
    "tojson": lambda ctx, value, indent=None: chars_of(value) * (1 + _width(indent or 0)),
    "join": lambda ctx, value, d="", attribute=None: _join_size(d, value),
    "format": lambda value, *args, **kwargs: percent_size(value, kwargs or args),
    "urlize": lambda ctx, value, *args, target=None, rel=None, **_: len(str(value)) * 10
    + (len(str(value)) // 4 + 1) * (chars_of(target or "") + chars_of(rel or "")),
}
# Filters that return (part of) their input or a number: nothing new to measure or charge.
FREE_FILTERS = frozenset(
    {"first", "last", "random", "max", "min", "attr", "default", "d", "length", "count", "abs", "int", "float",
     "round", "filesizeformat"}
)
# Filters that turn their whole input into text: `[a, a, a, ...]|string` must be sized before it is built.
TEXT_FILTERS = frozenset(
    {"string", "e", "escape", "forceescape", "pprint", "tojson", "urlencode", "urlize", "safe", "upper", "lower",
     "title", "capitalize", "trim", "striptags", "wordcount", "truncate", "wordwrap", "center", "indent",
     "replace", "format", "xmlattr"}
)
_CONTEXTS = (Environment, EvalContext, Context)
FREE_METHODS = frozenset({"get", "keys", "values", "items", "index", "count", "find", "rfind"})


def size_or_zero(estimate, *args, **kwargs) -> int:
    try:
        return int(estimate(*args, **kwargs))
    except (TypeError, ValueError, AttributeError, IndexError, KeyError):
        return 0  # a wrong call; let the real function raise its own error


def guard_filter(name: str, func):
    estimate = FILTER_SIZES.get(name)

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        if name == "join" and len(args) > 1:
            args = (args[0], list(args[1]), *args[2:])
        elif name == "sum" and len(args) > 1:
            args = (args[0], list(args[1]), *args[2:])
            start = kwargs.get("start", args[3] if len(args) > 3 else 0)
            if not isinstance(start, (int, float)):
                # adding lists one by one copies the growing total each time: quadratic
                if len(args[1]) * chars_of(args[1]) > MAX_WALK_STEPS:
                    raise TemplateProblem("'sum' of that many lists would take too long; use a loop")
        tick()
        if name in FREE_FILTERS:
            return func(*args, **kwargs)
        if name in TEXT_FILTERS:
            value = next((arg for arg in args if not isinstance(arg, _CONTEXTS)), "")
            ensure_transient(value)
        if estimate is not None:
            ensure_fits(size_or_zero(estimate, *args, **kwargs))
        return admit(func(*args, **kwargs))

    return guarded


def guard_test(func):
    @functools.wraps(func)
    def guarded(*args, **kwargs):
        tick()
        return func(*args, **kwargs)

    return guarded


def check_method(method: Any, args: tuple, kwargs: dict) -> tuple[tuple, bool]:
    """Estimate a str method call before it runs; returns the (possibly listed) args and whether to admit."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if name in FREE_METHODS:
        return args, False
    if isinstance(owner, str) and name in METHOD_SIZES:
        if name == "join" and args:
            args = (list(args[0]), *args[1:])
        ensure_fits(size_or_zero(METHOD_SIZES[name], owner, *args, **kwargs))
    tick()
    return args, True


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `left <operator> right` before it runs if the result would be too big."""
    sized = (str, list, tuple)
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str) and isinstance(times, int):
                ensure_fits(len(seq) * times)
            elif isinstance(seq, sized) and isinstance(times, int):
                ensure_fits((chars_of(seq) - 2) * times + 2)  # the brackets are not repeated
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_POWER_BITS:
                raise TemplateProblem(f"'*' result would exceed {MAX_POWER_BITS} bits")
    elif operator == "+" and isinstance(left, sized) and isinstance(right, sized):
        ensure_fits(chars_of(left) + chars_of(right))
    elif operator == "%" and isinstance(left, str):
        ensure_fits(percent_size(left, right))
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if right > 0 and right * max(abs(left).bit_length(), 1) > MAX_POWER_BITS:
            raise TemplateProblem(f"'**' result would exceed {MAX_POWER_BITS} bits")
    tick()


def limited_range(*args: int) -> range:
    """Jinja's sandboxed range(), with "too big" reported as a limit rather than a crash."""
    try:
        return safe_range(*args)
    except OverflowError as exc:
        raise TemplateProblem(f"range() is limited to {MAX_RANGE} numbers") from exc


def metered(iterable: Iterable) -> Iterable:
    meter = current()
    for value in iterable:
        meter.loops_left -= 1
        if meter.loops_left < 0:
            raise TemplateProblem(f"loops ran more than {MAX_LOOP_ITERATIONS} iterations")
        tick(meter)
        yield value
