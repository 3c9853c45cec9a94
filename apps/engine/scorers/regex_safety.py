"""Regexes written by users, run without letting one stall the worker.

Python's `re` holds the GIL and cannot be interrupted from another thread, so `(a+)+$` on a few
dozen characters, or `(\\w+\\s)*x` on 100,000 (a minute, measured), would block the event loop.
Two guards:

- `unsafe_repeat`, at save time, refuses the classic exponential shape: an unbounded repeat whose
  body is, apart from parts that can match nothing, itself a repeat (`(a+)+`, `(\\w+\\s?)*`,
  `(a*|b)+`). It is a heuristic (overlapping alternations like `(a|aa)+` pass), so
- `find` runs the match in-process only for short texts and simple patterns (at most one
  variable-length repeat such as `+`, `*`, `?` or `{1,5}`, and nothing repeated inside a
  repeat); everything else runs in a child Python process that is killed after a timeout
  (~20 ms to start one).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from re import _constants as C  # noqa: N812 - the stdlib's own parser, used read-only
from re import _parser as parser

FAST_CHARS = 5_000
TIMEOUT_S = 2.0
_CHILD = (
    "import json,re,sys\n"
    "d=json.load(sys.stdin)\n"
    "p=re.compile(d['p'])\n"
    "m=(p.search if d['m']=='search' else p.fullmatch)(d['t'])\n"
    "print(json.dumps(m and [m.start(),m.end()]))"
)

_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)


def _unbounded(av) -> bool:
    return av[1] == C.MAXREPEAT


def _flatten(items) -> list:
    out = []
    for op, av in items:
        out += _flatten(av[-1]) if op is C.SUBPATTERN else [(op, av)]
    return out


def _nullable(op, av) -> bool:
    if op in _REPEATS or op is C.POSSESSIVE_REPEAT:
        return av[0] == 0 or all(_nullable(*x) for x in av[2])
    if op is C.SUBPATTERN:
        return all(_nullable(*x) for x in av[-1])
    if op is C.BRANCH:
        return any(all(_nullable(*x) for x in branch) for branch in av[1])
    return op in _ZERO_WIDTH


def _ambiguous(body) -> bool:
    """Is `body`, give or take parts that can be empty, an unbounded repeat?"""
    items = _flatten(body)
    for index, (op, av) in enumerate(items):
        rest_nullable = all(_nullable(*x) for j, x in enumerate(items) if j != index)
        if not rest_nullable:
            continue
        if op in _REPEATS and (_unbounded(av) or _ambiguous(av[2])):
            return True
        if op is C.BRANCH and any(_ambiguous(branch) for branch in av[1]):
            return True
    return False


def _children(op, av) -> list:
    if op in _REPEATS or op is C.POSSESSIVE_REPEAT:
        return [av[2]]
    if op is C.SUBPATTERN:
        return [av[-1]]
    if op is C.BRANCH:
        return list(av[1])
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]
    if op is C.ATOMIC_GROUP:
        return [av]
    if op is C.GROUPREF_EXISTS:
        return [branch for branch in av[1:] if branch is not None]
    return []


def _walk(items) -> bool:
    for op, av in items:
        if op in _REPEATS and _unbounded(av) and _ambiguous(av[2]):
            return True
        if any(_walk(child) for child in _children(op, av)):
            return True
    return False


class RegexTooSlow(Exception):
    """The match did not finish within the time limit."""


def _repeats(items, inside: bool = False) -> int | None:
    """How many variable-length repeats `items` has; None when something repeats inside a repeat."""
    total = 0
    for op, av in items:
        repeated = op in _REPEATS or op is C.POSSESSIVE_REPEAT
        if op in (C.GROUPREF, C.GROUPREF_EXISTS) or (inside and (repeated or op is C.BRANCH)):
            return None
        if repeated:
            total += av[0] != av[1]
            children, child_inside = [av[2]], inside or av[1] > 1
        else:
            children, child_inside = _children(op, av), inside
        for child in children:
            count = _repeats(child, child_inside)
            if count is None:
                return None
            total += count
    return total


def is_simple(pattern: str) -> bool:
    """At most one variable-length repeat and none inside another repeat: at worst quadratic."""
    count = _repeats(parser.parse(pattern))
    return count is not None and count <= 1


async def find(pattern: str, text: str, mode: str, *, timeout_s: float | None = None) -> tuple[int, int] | None:
    """The span of `pattern`'s search or fullmatch in `text`, or RegexTooSlow past `timeout_s`."""
    timeout_s = timeout_s or TIMEOUT_S
    if len(text) <= FAST_CHARS and is_simple(pattern):
        compiled = re.compile(pattern)
        match = (compiled.search if mode == "search" else compiled.fullmatch)(text)
        return match.span() if match else None
    payload = json.dumps({"p": pattern, "t": text, "m": mode}).encode()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-S", "-c", _CHILD,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(child.communicate(payload), timeout_s)
    except TimeoutError:
        raise RegexTooSlow(f"the pattern took longer than {timeout_s:g}s on this output; simplify it") from None
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    if child.returncode != 0:
        raise RegexTooSlow(f"the regex process failed (exit code {child.returncode})")
    span = json.loads(out)
    return (span[0], span[1]) if span else None


def unsafe_repeat(pattern: str) -> str | None:
    """Why `pattern` could backtrack exponentially, or None."""
    try:
        parsed = parser.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return None  # not a valid pattern at all; compiling it reports that
    if _walk(parsed):
        return ("Nested unbounded quantifiers such as (a+)+ or (\\w+\\s?)* can take exponential time; "
                "rewrite without the outer repeat or use a possessive quantifier like (a++)+ or an atomic group.")
    return None
