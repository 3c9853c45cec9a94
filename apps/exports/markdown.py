"""Small Markdown builders that keep user text (prompts, names, comments) from breaking the structure."""

from __future__ import annotations

import re

_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85\x0b\x0c\x1c-\x1e]")
_BACKTICKS = re.compile(r"`+")


def inline(text) -> str:
    """One line of text with HTML-significant characters escaped."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BREAKS.sub(" ", text)


def cell(text, *, limit: int | None = None) -> str:
    """A table cell: pipes escaped, line breaks as <br>, optionally shortened."""
    text = str(text)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BREAKS.sub("<br>", text.replace("|", "\\|"))


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of a GitHub-flavoured table; cells must already be escaped with `cell`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def fenced(text: str, language: str = "") -> list[str]:
    """A code block whose fence is longer than any run of backticks inside it."""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text.rstrip("\n"), fence]
