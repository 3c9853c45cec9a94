"""Prompt templates: Jinja2's immutable sandbox, strict about unknown variables, with resource guards.

Users author templates and the worker renders them, so on top of the sandbox (no attribute that
starts with ``_``, no mutation of lists or dicts) nothing a template does may exhaust the worker
(the guards live in ``template_guards`` and ``template_meter``):

- the source length is capped; macros, ``{% call %}``, ``{% block %}``, recursive loops, imports
  and block ``{% set %}`` / ``{% filter %}`` (which buffer output unmetered) are rejected;
- every for-loop iteration is charged to a per-render budget (``MAX_LOOP_ITERATIONS``);
- ``*``, ``**``, ``%``, ``+``, ``~``, filters and string methods that can amplify a value are
  sized in characters of text (a list counts its elements' characters) before they run, and no
  value may exceed the output cap; every new value's bytes are charged to a per-render budget;
- a render stops at a wall-clock deadline, and MemoryError / RecursionError become TemplateErrors;
- the rendered output is counted as it streams and cut off at the cap;
- ``template_variables`` (the save-time check) also renders the template once with every variable
  standing in as "anything", so a template that breaks a limit whatever the data is refused there.

Context for a stage (``stage_context``): the item's variables, ``item`` (the whole item),
``previous`` (the previous stage's output) and ``stages`` (``{name: {"output": ...}}`` of the
earlier stages); the last two only exist after the first stage.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, meta, nodes
from jinja2 import TemplateError as JinjaError
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from apps.engine import template_guards as guards
from apps.engine import template_meter as meter
from apps.engine.template_meter import DEFAULT_MAX_OUTPUT_CHARS, MAX_LOOP_ITERATIONS, TemplateProblem  # noqa: F401

DEFAULT_MAX_TEMPLATE_CHARS = 100_000
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
_UNDEFINED_NAME = re.compile(r"^'(.+)' is undefined$")
_MISSING_ATTR = re.compile(r"has no attribute '(.+)'$")


class TemplateError(Exception):
    """A template that cannot be parsed or rendered; names the stage and, when known, the variable."""

    def __init__(self, *, stage: str, variable: str | None, message: str) -> None:
        super().__init__(f"stage '{stage}': {message}" if stage else message)
        self.stage = stage
        self.variable = variable
        self.message = message


class _Anything(ChainableUndefined):
    """The trial render's stand-in for every variable: absorbs any operation, prints as ''."""

    def _absorb(self, *args: Any, **kwargs: Any) -> _Anything:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _absorb
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __pos__ = __neg__ = _absorb
    __call__ = __getitem__ = _absorb
    __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: False  # noqa: E731

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


class _GuardedCodeGenerator(CodeGenerator):
    def visit_Compare(self, node: nodes.Compare, frame) -> None:
        # `x in big_list` costs time but allocates nothing, so only the clock can bound it
        self.write("environment.ticked(")
        super().visit_Compare(node, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        self.write("environment.guarded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _PromptEnvironment(ImmutableSandboxedEnvironment):
    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, undefined: type = StrictUndefined) -> None:
        super().__init__(undefined=undefined, autoescape=False, keep_trailing_newline=True, cache_size=0,
                         finalize=meter.finalize_output)
        self.globals.pop("lipsum", None)
        self.globals[_GUARD] = guards.metered
        self.globals["range"] = guards.limited_range
        self.filters = {name: guards.guard_filter(name, func) for name, func in self.filters.items()}
        self.tests = {name: guards.guard_test(func) for name, func in self.tests.items()}

    @staticmethod
    def guarded_concat(parts: Sequence[Any]) -> str:
        return meter.concat(parts)

    @staticmethod
    def ticked(value: Any) -> Any:
        meter.tick()
        return value

    def getitem(self, obj: Any, argument: Any) -> Any:
        meter.tick()
        value = super().getitem(obj, argument)
        return meter.admit(value) if isinstance(argument, slice) else value

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        guards.check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        if operator in ("*", "+") and isinstance(result, (list, tuple)):
            meter.charge(sys.getsizeof(result))  # sized by check_binop; its elements are shared, not new
            return result
        return meter.admit(result)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        args, admit = guards.check_method(getattr(__obj, "__wrapped__", __obj), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return meter.admit(result) if admit else result


_ENV = _PromptEnvironment()
_TRIAL_ENV = _PromptEnvironment(undefined=_Anything)


def _parse(source: str, max_template_chars: int) -> nodes.Template:
    if not isinstance(source, str):
        raise TemplateProblem("template must be a string")
    if len(source) > max_template_chars:
        raise TemplateProblem(f"template is longer than {max_template_chars} characters")
    try:
        tree = _ENV.parse(source)
        for node in tree.find_all(nodes.Node):
            reason = _REJECTED.get(type(node))
            if reason:
                raise TemplateProblem(reason)
            if isinstance(node, nodes.For) and node.recursive:
                raise TemplateProblem("recursive loops are not allowed in prompt templates")
            if isinstance(node, nodes.Name) and node.name.startswith("_pl_"):
                raise TemplateProblem(f"the name '{node.name}' is reserved")
    except JinjaError as exc:
        raise TemplateProblem(_syntax_message(exc)) from None
    except (MemoryError, RecursionError):
        raise TemplateProblem("template nests too deeply") from None
    return tree


def _syntax_message(exc: JinjaError) -> str:
    line = getattr(exc, "lineno", None)
    return f"syntax error{f' on line {line}' if line else ''}: {exc.message or exc}"


@functools.lru_cache(maxsize=512)
def _compiled(source: str, max_template_chars: int, trial: bool = False):
    env = _TRIAL_ENV if trial else _ENV
    tree = _parse(source, max_template_chars)
    for loop in tree.find_all(nodes.For):
        guard = nodes.Call(nodes.Name(_GUARD, "load"), [loop.iter], [], None, None)
        loop.iter = guard.set_lineno(loop.lineno).set_environment(env)
    return env.from_string(tree)


def template_variables(source: str, *, stage: str = "",
                       max_template_chars: int = DEFAULT_MAX_TEMPLATE_CHARS) -> set[str]:
    """The root variable names a template reads (Jinja globals such as `range` excluded).

    Also renders the template once with every variable standing in as "anything", so a template
    that breaks a resource limit whatever the data (`{{ 'x' * 10**9 }}`) is refused when saved.
    """
    try:
        tree = _parse(source, max_template_chars)
        _trial_render(source, max_template_chars)
        names = meta.find_undeclared_variables(tree)
    except TemplateProblem as exc:
        raise TemplateError(stage=stage, variable=None, message=exc.message) from None
    except (MemoryError, RecursionError):
        raise TemplateError(stage=stage, variable=None, message="template nests too deeply") from None
    return set(names) - set(_ENV.globals)


def _trial_render(source: str, max_template_chars: int) -> None:
    try:
        template = _compiled(source, max_template_chars, trial=True)
    except TemplateProblem:
        raise
    except JinjaError as exc:  # e.g. an unknown filter: fails whatever the data
        raise TemplateProblem(_syntax_message(exc)) from None
    except Exception as exc:  # noqa: BLE001 - Python refused the compiled code (nesting, size)
        raise TemplateProblem(f"template is too complex to compile ({type(exc).__name__})") from None
    try:
        _generate(template, {}, DEFAULT_MAX_OUTPUT_CHARS)
    except TemplateProblem:
        raise
    except (MemoryError, RecursionError) as exc:
        raise TemplateProblem(_resource_message(exc)) from None
    except Exception:  # noqa: BLE001 - other failures depend on the data; the real render reports them
        pass


def _generate(template, context: Mapping[str, Any], max_output_chars: int) -> str:
    token = meter.metering(max_output_chars)
    try:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(dict(context)):
            size += len(chunk)
            if size > max_output_chars:
                raise TemplateProblem(f"output is longer than {max_output_chars} characters")
            parts.append(chunk)
        return "".join(parts)
    finally:
        meter.stop_metering(token)


def _resource_message(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "rendering ran out of memory"
    return "rendering nested too deeply"


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
    try:
        return _generate(_compiled(source, max_template_chars), context, max_output_chars)
    except TemplateProblem as exc:
        raise TemplateError(stage=stage, variable=exc.variable, message=exc.message) from None
    except SecurityError as exc:
        raise TemplateError(stage=stage, variable=None, message=f"not allowed: {exc}") from None
    except UndefinedError as exc:
        raise _undefined(stage, str(exc)) from None
    except (MemoryError, RecursionError) as exc:
        raise TemplateError(stage=stage, variable=None, message=_resource_message(exc)) from None
    except Exception as exc:  # noqa: BLE001 - whatever a template does, the item fails, not the worker
        raise TemplateError(stage=stage, variable=None, message=f"render failed: {exc}") from None


def _undefined(stage: str, text: str) -> TemplateError:
    name = _UNDEFINED_NAME.match(text)
    if name:
        variable = name.group(1)
        return TemplateError(stage=stage, variable=variable, message=f"unknown variable '{variable}'")
    attr = _MISSING_ATTR.search(text)
    variable = attr.group(1) if attr else None
    label = f"unknown attribute '{variable}'" if variable else "unknown attribute"
    return TemplateError(stage=stage, variable=variable, message=f"{label} ({text})")
