"""Word-level, side-by-side diffs for the compare page (display only: what changed between two texts)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# A word, a run of whitespace, or one punctuation mark: whitespace is kept so the text reads as written.
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
# Above this many tokens in a changed block, word matching costs more than it tells: show it as replaced.
MAX_BLOCK_TOKENS = 3000

Segment = tuple[str, str]  # (kind, text): kind is "same", "del" (only in A) or "ins" (only in B)


@dataclass(frozen=True)
class SideBySide:
    left: list[Segment]
    right: list[Segment]
    same: bool


def _append(segments: list[Segment], kind: str, text: str) -> None:
    if not text:
        return
    if segments and segments[-1][0] == kind:
        segments[-1] = (kind, segments[-1][1] + text)
    else:
        segments.append((kind, text))


def _words(a: str, b: str, left: list[Segment], right: list[Segment]) -> None:
    tokens_a, tokens_b = _TOKEN.findall(a), _TOKEN.findall(b)
    if len(tokens_a) + len(tokens_b) > MAX_BLOCK_TOKENS:
        _append(left, "del", a)
        _append(right, "ins", b)
        return
    opcodes = difflib.SequenceMatcher(None, tokens_a, tokens_b, autojunk=False).get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        # A lone space kept between two changed words would split one change into many marks.
        between_changes = 0 < index < len(opcodes) - 1 and all(t.isspace() for t in tokens_a[i1:i2])
        if op == "equal" and not between_changes:
            _append(left, "same", "".join(tokens_a[i1:i2]))
            _append(right, "same", "".join(tokens_b[j1:j2]))
        else:
            _append(left, "del", "".join(tokens_a[i1:i2]))
            _append(right, "ins", "".join(tokens_b[j1:j2]))


def word_diff(a: str | None, b: str | None) -> SideBySide:
    """A's text with removed words marked "del", B's with added words marked "ins".

    Lines are matched first and words only inside changed lines, so long outputs stay cheap.
    """
    a, b = a or "", b or ""
    left: list[Segment] = []
    right: list[Segment] = []
    if a == b:
        _append(left, "same", a)
        _append(right, "same", b)
        return SideBySide(left, right, same=True)
    lines_a, lines_b = a.splitlines(keepends=True), b.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        block_a, block_b = "".join(lines_a[i1:i2]), "".join(lines_b[j1:j2])
        if op == "equal":
            _append(left, "same", block_a)
            _append(right, "same", block_b)
        else:
            _words(block_a, block_b, left, right)
    return SideBySide(left, right, same=False)
