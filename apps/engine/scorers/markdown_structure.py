"""Counting markdown structure for the `format` scorer's `markdown` kind (CommonMark/GFM, line based).

Headings are ATX (`## Title`) or setext (a line underlined with `===` or `---`); lists are runs
of `-`, `*`, `+` or `1.` items (blank lines and indented lines continue a list); code blocks are
``` or ~~~ fences (an unclosed fence runs to the end); tables are a header row followed by a
`|---|---|` delimiter row. Nothing inside a code fence counts as structure. Only the first
1,000,000 characters are read.
"""

from __future__ import annotations

import re
from typing import Any

from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, ScoreResult

MARKDOWN_OPTIONS = ("headings", "lists", "code_blocks", "tables")
MAX_REQUIRED_HEADINGS = 100
MAX_SCAN_CHARS = 1_000_000
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?)(?:[ \t]+#+)?)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


def markdown_requirements(options: dict) -> dict[str, Any]:
    normalized: dict[str, Any] = {}
    headings = options.get("headings")
    if isinstance(headings, list):
        if not headings or len(headings) > MAX_REQUIRED_HEADINGS:
            raise OptionsInvalid("headings", f"List 1 to {MAX_REQUIRED_HEADINGS} heading texts.")
        for index, text in enumerate(headings):
            if not isinstance(text, str) or not text.strip() or len(text) > 500:
                raise OptionsInvalid(f"headings.{index}", "Must be a non-empty heading text.")
        normalized["headings"] = [text.strip() for text in headings]
    elif headings is not None:
        normalized["headings"] = opt.number(options, "headings", low=0, high=10_000, integer=True)
    for name in MARKDOWN_OPTIONS[1:]:
        if options.get(name) is not None:
            normalized[name] = opt.number(options, name, low=0, high=10_000, integer=True)
    if not normalized:
        raise OptionsInvalid("headings", "Give at least one requirement: headings, lists, code_blocks or tables.")
    return normalized


def _thematic_break(line: str) -> bool:
    marks = line.replace(" ", "").replace("\t", "")
    return len(marks) >= 3 and len(set(marks)) == 1 and marks[0] in "-*_" and not line.startswith("    ")


def structure(text: str) -> dict[str, Any]:
    """Counts of headings, lists, code blocks and tables, plus the heading texts."""
    headings: list[str] = []
    counts = {"lists": 0, "code_blocks": 0, "tables": 0}
    fence, in_list, previous = "", False, ""
    for line in text[:MAX_SCAN_CHARS].splitlines():
        if fence:
            fence = "" if line.strip().startswith(fence) and not line.strip().strip(fence[0]) else fence
            previous = ""
            continue
        opening = _FENCE.match(line)
        if opening:
            fence, in_list, previous = opening.group(1), False, ""
            counts["code_blocks"] += 1
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append((atx.group(2) or "").strip())
            in_list = False
        elif _SETEXT.match(line) and previous.strip() and not _ITEM.match(previous) and "|" not in line:
            headings.append(previous.strip())
            in_list = False
        elif _thematic_break(line):
            in_list = False
        elif _ITEM.match(line):
            counts["lists"] += not in_list
            in_list = True
        elif "|" in previous and "|" in line and _DELIMITER.match(line):
            counts["tables"] += 1
        elif line.strip() and not line[:1].isspace():
            in_list = False
        previous = line
    return {"headings": len(headings), "heading_texts": headings, **counts}


def check_markdown(text: str, requirements: dict[str, Any]) -> ScoreResult:
    found = structure(text)
    met, failed = 0, []
    total = 0
    for name in MARKDOWN_OPTIONS:
        need = requirements.get(name)
        if isinstance(need, list):
            present = {heading.casefold() for heading in found["heading_texts"]}
            for heading in need:
                total += 1
                if heading.casefold() in present:
                    met += 1
                else:
                    failed.append(f"heading '{heading}' is missing")
        elif need is not None:
            total += 1
            if found[name] >= need:
                met += 1
            else:
                failed.append(f"{name}: found {found[name]}, need at least {need}")
    found["heading_texts"] = found["heading_texts"][:50]
    return ScoreResult(met / total, {"kind": "markdown", "counts": found, "failed": failed,
                                     "requirements_met": met, "requirements": total})
