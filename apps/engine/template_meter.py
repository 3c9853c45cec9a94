"""Measuring what a prompt template builds: characters of text, bytes held, and time spent.

Sizes are characters of the value's text (``len(str(value))``, walking lists, tuples, dicts and
namespaces), never element counts: ``[a] * 999999`` with a 3,000-character ``a`` is 3 billion
characters although it has a million elements. Each render gets a ``Meter`` (in a context
variable) holding its output cap, loop budget, byte budget and deadline.
"""

from __future__ import annotations

import contextvars
import sys
import time
from collections.abc import ItemsView, Iterable, KeysView, Mapping, ValuesView
from typing import Any

from jinja2.utils import Namespace

DEFAULT_MAX_OUTPUT_CHARS = 1_000_000
MAX_LOOP_ITERATIONS = 100_000
MAX_POWER_BITS = 4096
MAX_RENDER_BYTES = 32 * 2**20
MAX_WALK_STEPS = 4_000_000
MAX_RENDER_SECONDS = 1.0
TRANSIENT_FACTOR = 8  # a filter may briefly build this many times the cap before its result is refused

_SEQUENCES = (list, tuple, set, frozenset, KeysView, ValuesView, ItemsView)
_NUMBERS = frozenset({int, bool, float, complex})
_OPAQUE_CHARS = 64  # generators, loop objects and the like print as a short "<... object>"


class TemplateProblem(Exception):
    """A guard refused the template; the message says which limit."""

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable


class Meter:
    def __init__(self, max_output: int) -> None:
        self.max_output = max_output
        self.loops_left = MAX_LOOP_ITERATIONS
        self.bytes_left = MAX_RENDER_BYTES
        self.steps_left = MAX_WALK_STEPS
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS


_meter: contextvars.ContextVar[Meter] = contextvars.ContextVar("prompt_template_meter")


def metering(max_output: int) -> contextvars.Token:
    return _meter.set(Meter(max_output))


def stop_metering(token: contextvars.Token) -> None:
    _meter.reset(token)


def current() -> Meter:
    try:
        return _meter.get()
    except LookupError:
        return Meter(DEFAULT_MAX_OUTPUT_CHARS)


def tick(meter: Meter | None = None) -> None:
    if time.monotonic() > (meter or current()).deadline:
        raise TemplateProblem(f"rendering took longer than {MAX_RENDER_SECONDS:g} seconds")


def _int_chars(value: int) -> int:
    return value.bit_length() * 3 // 10 + 2


def _repr_chars(text: str) -> int:
    if text.isprintable():
        return len(text) + 2 + text.count("\\") + text.count("'")
    return len(text) * 10 + 2  # worst case: every character escaped as \U0001xxxx


def _flat_chars(node: Any, room: int) -> tuple[int, int] | None:
    """C-speed sizes of a sequence of only strings or only ints (split(), list filters); else None."""
    kinds = set(map(type, node))
    brackets = 0 if isinstance(node, (list, tuple)) else 11
    if kinds <= {str}:
        chars = sum(map(len, node))
        if chars <= room:  # quotes and ", " per element; escapes counted on the joined text
            chars = _repr_chars("".join(node)) - 2 + 4 * len(node)
        return chars + brackets, sum(map(sys.getsizeof, node))
    if kinds <= {int, bool}:
        return sum(map(int.bit_length, node)) * 3 // 10 + 4 * len(node) + brackets, sum(map(sys.getsizeof, node))
    return None


def measure(value: Any, *, limit: int | None = None) -> tuple[int, int]:
    """Upper bounds on len(str(value)) and on the bytes it holds; stops counting past `limit` chars."""
    kind = type(value)
    if kind is str:
        return len(value), sys.getsizeof(value)
    if kind is int:
        return _int_chars(value), sys.getsizeof(value)
    meter = current()
    limit = meter.max_output if limit is None else limit
    chars = size = steps = 0
    flat_seen: dict[int, tuple[int, int]] = {}  # `[[1]] * n` repeats one list n times: size it once
    stack = [(value, False)]
    while stack and chars <= limit:
        node, nested = stack.pop()
        steps += 1
        kind = type(node)
        if kind is str or isinstance(node, str):
            chars += (_repr_chars(node) if nested else len(node)) + 2
            size += sys.getsizeof(node)
        elif kind in _NUMBERS or node is None:
            chars += (_int_chars(node) if kind is int else 32) + 2
            size += 32
        elif kind is list or kind is tuple or isinstance(node, _SEQUENCES):
            flat = flat_seen.get(id(node)) or _flat_chars(node, limit - chars)
            if flat is not None:
                flat_seen[id(node)] = flat
                chars += flat[0] + 2
                size += flat[1] + sys.getsizeof(node)
            else:
                chars += 4 if kind is list or kind is tuple else 15
                size += sys.getsizeof(node)
                stack.extend([(element, True) for element in node])
        elif kind is dict or isinstance(node, Mapping):
            chars += 4 + 2 * len(node)
            size += sys.getsizeof(node)
            stack.extend([(part, True) for pair in node.items() for part in pair])
        elif isinstance(node, Namespace):
            chars += 15
            stack.append((object.__getattribute__(node, "_Namespace__attrs"), True))
        elif isinstance(node, bytes):
            chars += len(node) * 4 + 5
            size += sys.getsizeof(node)
        else:
            chars += _OPAQUE_CHARS
            size += sys.getsizeof(node)
    meter.steps_left -= steps
    if meter.steps_left < 0:
        raise TemplateProblem("rendering walked more than the allowed number of values")
    return chars, size


def charge(size: int) -> None:
    meter = current()
    meter.bytes_left -= size
    if meter.bytes_left < 0:
        raise TemplateProblem(f"rendering would allocate more than {MAX_RENDER_BYTES // 2**20} MB")
    tick(meter)


def ensure_fits(chars: int, *, factor: int = 1) -> None:
    cap = current().max_output
    if chars > cap * factor:
        raise TemplateProblem(f"a value would exceed the {cap} character limit")


def ensure_transient(value: Any) -> None:
    """Refuse to turn `value` into text when even that intermediate text would be far over the cap."""
    ensure_fits(measure(value, limit=current().max_output * TRANSIENT_FACTOR)[0], factor=TRANSIENT_FACTOR)


def chars_of(value: Any) -> int:
    return measure(value)[0]


def admit(value: Any) -> Any:
    """Refuse a new value longer than the cap and charge its bytes to the render's budget."""
    chars, size = measure(value)
    ensure_fits(chars)
    charge(size)
    return value


def finalize_output(value: Any) -> str:
    """Jinja's finalize hook: every `{{ }}` value is measured before it is turned into text."""
    if not isinstance(value, str):
        ensure_fits(chars_of(value))
    return value if isinstance(value, str) else str(value)


def concat(parts: Iterable[Any]) -> str:
    parts = list(parts)
    ensure_fits(sum(chars_of(part) for part in parts))
    return admit("".join(str(part) for part in parts))
