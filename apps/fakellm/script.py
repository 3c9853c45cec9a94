"""Numbered scripted replies, for agent loops: `REPLY <n>: text` lines answer step n.

An agent's prompt carries the same script on every step (it is part of the task) and a step header
(`STEP <n>`, as looplet writes it); the reply is the script line of the last step number in the
prompt, so a test can script a whole multi-step conversation. Without numbered lines nothing changes.
"""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"^[ \t]*REPLY (\d+):[ ]?(.*?)\r?$", re.MULTILINE)
_STEP = re.compile(r"\bSTEP (\d+)\b")


def numbered_reply(text: str) -> str | None:
    """The `REPLY <n>:` line for the prompt's last `STEP <n>` (with `\\n` escapes expanded), else None."""
    script = {int(n): reply for n, reply in _NUMBERED.findall(text)}
    steps = _STEP.findall(text)
    if not script or not steps:
        return None
    reply = script.get(int(steps[-1]))
    return None if reply is None else reply.replace("\\n", "\n")
