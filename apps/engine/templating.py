"""Prompt templates: Jinja2's immutable sandbox, strict about unknown variables, with resource guards.

Users author templates and the worker renders them, so on top of the sandbox (no attribute that
starts with ``_``, no mutation of lists or dicts) anything that could grow memory or CPU without
bound is refused or metered:

- the source length is capped; macros, ``{% call %}``, ``{% block %}``, recursive loops, imports
  and block ``{% set %}`` / ``{% filter %}`` (which buffer output unmetered) are rejected;
- every for-loop iteration is charged to a per-render budget (``MAX_LOOP_ITERATIONS``);
- ``*``, ``**``, ``%``, ``+``, ``~``, filters and string methods that can amplify a value are
  checked before they run, and no intermediate value may exceed the output cap;
- the rendered output is counted as it streams and cut off at the cap.

Context for a stage (``stage_context``): the item's variables, ``item`` (the whole item),
``previous`` (the previous stage's output) and ``stages`` (``{name: {"output": ...}}`` of the
earlier stages); the last two only exist after the first stage.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jinja2 import StrictUndefined, meta, nodes
from jinja2 import TemplateError as JinjaError
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_MAX_TEMPLATE_CHARS = 100_000
DEFAULT_MAX_OUTPUT_CHARS = 1_000_000
MAX_LOOP_ITERATIONS = 100_000
MAX_POWER_BITS = 4096
ITEM_FIELDS = ("id", "input", "reference", "expected")
CONTEXT_NAMES = frozenset({"item", "previous", "stages"})

_GUARD = "_pl_loop_guard"
_REJECTED = {
    nodes.Macro: "macros are not allowed in prompt templates",
    nodes.CallBlock: "{% call %} blocks are not allowed in prompt templates",
    nodes.Block: "{% block %} is not allowed in prompt templates",
    nodes.Extends: "{% extends %} is not allowed in prompt templates",
    nodes.Include: "{% include %} is not allowed in prompt templates",
    nodes.Import: "{% import %} is not allowed in prompt templates",
    nodes.FromImport: "{% import %} is not allowed in prompt templates",
    nodes.AssignBlock: "block {% set %} is not allowed; use {% set x = ... %}",
    nodes.FilterBlock: "{% filter %} blocks are not allowed; use the | filter syntax",
}
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")
_UNDEFINED_NAME = re.compile(r"^'(.+)' is undefined$")
_MISSING_ATTR = re.compile(r"has no attribute '(.+)'$")


class TemplateError(Exception):
    """A template that cannot be parsed or rendered; names the stage and, when known, the variable."""

    def __init__(self, *, stage: str, variable: str | None, message: str) -> None:
        super().__init__(f"stage '{stage}': {message}" if stage else message)
        self.stage = stage
        self.variable = variable
        self.message = message


class _Problem(Exception):
    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable


class _Meter:
    def __init__(self, max_output: int) -> None:
        self.max_output = max_output
        self.loops_left = MAX_LOOP_ITERATIONS


_meter: contextvars.ContextVar[_Meter] = contextvars.ContextVar("prompt_template_meter")


def _current() -> _Meter:
    try:
        return _meter.get()
    except LookupError:
        return _Meter(DEFAULT_MAX_OUTPUT_CHARS)


def _ensure_fits(size: int) -> None:
    limit = _current().max_output
    if size > limit:
        raise _Problem(f"a value would exceed the {limit} character limit")


def _checked(value: Any) -> Any:
    if isinstance(value, (str, list, tuple, dict)):
        _ensure_fits(len(value))
    return value


def _check_format_widths(fmt: Any) -> None:
    if not isinstance(fmt, str):
        return
    numbers: list[str] = []
    for match in _PERCENT_SPEC.finditer(fmt):
        if "*" in match.groups():
            raise _Problem("'*' widths are not allowed in format strings")
        numbers += [group for group in match.groups() if group]
    for match in _BRACE_SPEC.finditer(fmt):
        numbers += [group for group in match.groups() if group]
    _ensure_fits(max((int(n) for n in numbers), default=0))


def _replace_size(s: Any, old: Any, new: Any, count: Any = None) -> int:
    if not isinstance(s, str):
        return 0
    hits = len(s) + 1 if old == "" else s.count(str(old))
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * len(str(new))


def _join_size(sep: Any, items: list) -> int:
    return sum(len(x) if isinstance(x, str) else 16 for x in items) + len(str(sep)) * len(items)


def _width(value: Any) -> int:
    return value if isinstance(value, int) else len(str(value))


# Worst-case output size of the string methods and filters that can amplify their input.
_METHOD_SIZES = {
    "ljust": lambda s, width=0, *_: width,
    "rjust": lambda s, width=0, *_: width,
    "center": lambda s, width=0, *_: width,
    "zfill": lambda s, width=0: width,
    "expandtabs": lambda s, tabsize=8: len(s) + s.count("\t") * tabsize,
    "replace": _replace_size,
}
_FILTER_SIZES = {
    "replace": lambda ctx, s, old, new, count=None: _replace_size(s, old, new, count),
    "center": lambda value, width=80: _width(width),
    "indent": lambda s, width=4, *_, **__: len(str(s)) + (str(s).count("\n") + 1) * _width(width),
    "wordwrap": lambda env, s, width=79, brk=True, wrapstring=None, *_, **__: len(str(s))
    * (1 + len(wrapstring or "\n")),
    "truncate": lambda env, s, length=255, killwords=False, end="...", *_, **__: len(str(end))
    + min(length, len(str(s))),
    "batch": lambda value, linecount, *_: _width(linecount),
    "slice": lambda value, slices, *_: _width(slices),
    "tojson": lambda ctx, value, indent=None: len(str(value)) * (1 + _width(indent or 0)),
}


def _size_or_zero(estimate, *args, **kwargs) -> int:
    try:
        return int(estimate(*args, **kwargs))
    except (TypeError, ValueError, AttributeError):
        return 0  # a wrong call; let the real function raise its own error


def _guard_filter(name: str, func):
    estimate = _FILTER_SIZES.get(name)

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        if name == "join":
            args = (args[0], list(args[1]), *args[2:]) if len(args) > 1 else args
            if len(args) > 1:
                _ensure_fits(_size_or_zero(_join_size, kwargs.get("d", args[2] if len(args) > 2 else ""), args[1]))
        elif name == "format" and args:
            _check_format_widths(args[0])
        elif estimate is not None:
            _ensure_fits(_size_or_zero(estimate, *args, **kwargs))
        return _checked(func(*args, **kwargs))

    return guarded


def _metered(iterable: Iterable) -> Iterable:
    meter = _current()
    for value in iterable:
        meter.loops_left -= 1
        if meter.loops_left < 0:
            raise _Problem(f"loops ran more than {MAX_LOOP_ITERATIONS} iterations")
        yield value


class _GuardedCodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        self.write("environment.guarded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _PromptEnvironment(ImmutableSandboxedEnvironment):
    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, cache_size=0)
        self.globals.pop("lipsum", None)
        self.globals[_GUARD] = _metered
        self.filters = {name: _guard_filter(name, func) for name, func in self.filters.items()}

    @staticmethod
    def guarded_concat(parts: Sequence[Any]) -> str:
        texts = [str(part) for part in parts]
        _ensure_fits(sum(len(text) for text in texts))
        return "".join(texts)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        sized = (str, list, tuple)
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, sized) and isinstance(times, int):
                    _ensure_fits(len(seq) * times)
        elif operator == "+" and isinstance(left, sized) and isinstance(right, sized):
            _ensure_fits(len(left) + len(right))
        elif operator == "%":
            _check_format_widths(left)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and right * max(abs(left).bit_length(), 1) > MAX_POWER_BITS:
                raise _Problem(f"'**' result would exceed {MAX_POWER_BITS} bits")
        return _checked(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        method = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            name = getattr(method, "__name__", "")
            if name == "join" and args:
                args = (list(args[0]), *args[1:])
                _ensure_fits(_size_or_zero(_join_size, owner, args[0]))
            elif name in ("format", "format_map"):
                _check_format_widths(owner)
            elif name in _METHOD_SIZES:
                _ensure_fits(_size_or_zero(_METHOD_SIZES[name], owner, *args, **kwargs))
        return _checked(super().call(__context, __obj, *args, **kwargs))


_ENV = _PromptEnvironment()


def _parse(source: str, max_template_chars: int) -> nodes.Template:
    if not isinstance(source, str):
        raise _Problem("template must be a string")
    if len(source) > max_template_chars:
        raise _Problem(f"template is longer than {max_template_chars} characters")
    try:
        tree = _ENV.parse(source)
    except JinjaError as exc:
        line = getattr(exc, "lineno", None)
        raise _Problem(f"syntax error{f' on line {line}' if line else ''}: {exc.message or exc}") from None
    for node in tree.find_all(nodes.Node):
        reason = _REJECTED.get(type(node))
        if reason:
            raise _Problem(reason)
        if isinstance(node, nodes.For) and node.recursive:
            raise _Problem("recursive loops are not allowed in prompt templates")
        if isinstance(node, nodes.Name) and node.name.startswith("_pl_"):
            raise _Problem(f"the name '{node.name}' is reserved")
    return tree


@functools.lru_cache(maxsize=512)
def _compiled(source: str, max_template_chars: int):
    tree = _parse(source, max_template_chars)
    for loop in tree.find_all(nodes.For):
        guard = nodes.Call(nodes.Name(_GUARD, "load"), [loop.iter], [], None, None)
        loop.iter = guard.set_lineno(loop.lineno).set_environment(_ENV)
    return _ENV.from_string(tree)


def template_variables(source: str, *, stage: str = "", max_template_chars: int = DEFAULT_MAX_TEMPLATE_CHARS) -> set[str]:
    """The root variable names a template reads (Jinja globals such as `range` excluded)."""
    try:
        tree = _parse(source, max_template_chars)
    except _Problem as exc:
        raise TemplateError(stage=stage, variable=None, message=exc.message) from None
    return set(meta.find_undeclared_variables(tree)) - set(_ENV.globals)


def attribute_references(source: str, root: str) -> set[str]:
    """Names read statically from `root` (`stages.extract` or `stages['extract']` → {"extract"})."""
    tree = _parse(source, max(len(source), 1))
    found: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not (isinstance(node.node, nodes.Name) and node.node.name == root):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    return found


def item_variables(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's template variables: keys of a dict `input`, then `vars`, then the item's own fields."""
    variables: dict[str, Any] = {}
    if isinstance(item.get("input"), Mapping):
        variables.update(item["input"])
    if isinstance(item.get("vars"), Mapping):
        variables.update(item["vars"])
    variables.update({field: item[field] for field in ITEM_FIELDS if field in item})
    return variables


def stage_context(item: Mapping[str, Any], *, earlier: Sequence[tuple[str, Any]] = ()) -> dict[str, Any]:
    """The render context of a stage given the (name, output) pairs of the stages before it."""
    context = item_variables(item)
    context.pop("previous", None)
    context.pop("stages", None)
    context["item"] = item
    if earlier:
        context["previous"] = earlier[-1][1]
        context["stages"] = {name: {"output": output} for name, output in earlier}
    return context


def render(
    source: str,
    context: Mapping[str, Any],
    *,
    stage: str,
    max_template_chars: int = DEFAULT_MAX_TEMPLATE_CHARS,
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
) -> str:
    """Render a template in the sandbox; any failure is a TemplateError naming the stage."""
    token = _meter.set(_Meter(max_output_chars))
    try:
        template = _compiled(source, max_template_chars)
        parts: list[str] = []
        size = 0
        for chunk in template.generate(dict(context)):
            size += len(chunk)
            if size > max_output_chars:
                raise _Problem(f"output is longer than {max_output_chars} characters")
            parts.append(chunk)
        return "".join(parts)
    except _Problem as exc:
        raise TemplateError(stage=stage, variable=exc.variable, message=exc.message) from None
    except SecurityError as exc:
        raise TemplateError(stage=stage, variable=None, message=f"not allowed: {exc}") from None
    except UndefinedError as exc:
        raise _undefined(stage, str(exc)) from None
    except (JinjaError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
        raise TemplateError(stage=stage, variable=None, message=f"render failed: {exc}") from None
    finally:
        _meter.reset(token)


def _undefined(stage: str, text: str) -> TemplateError:
    name = _UNDEFINED_NAME.match(text)
    if name:
        variable = name.group(1)
        return TemplateError(stage=stage, variable=variable, message=f"unknown variable '{variable}'")
    attr = _MISSING_ATTR.search(text)
    variable = attr.group(1) if attr else None
    label = f"unknown attribute '{variable}'" if variable else "unknown attribute"
    return TemplateError(stage=stage, variable=variable, message=f"{label} ({text})")
