"""What the gateway sends upstream: the caller's request with the routed version's prompt, model and params.

* System prompt: the version's replaces the caller's first system (or developer) message, or is
  inserted first when the caller sent none.
* User template: a version's `user_template` wraps the caller's last user message (`{{ input }}`).
* Model: the version's override, else the deployment's (the caller's `model` is never used).
* Parameters: the version's overrides win, then the deployment's, then the caller's own values for keys
  neither sets (so a caller may pass `user`, `tools`, `max_tokens`… that the deployment leaves open).
"""

from __future__ import annotations

import re
from typing import Any

from apps.deployments.selectors.routes import RouteTable, VersionRoute

SYSTEM_ROLES = ("system", "developer")
# Keys the gateway owns: never taken from the caller's body as inference parameters.
RESERVED = frozenset({"model", "messages", "stream", "stream_options"})
_INPUT = re.compile(r"\{\{\s*input\s*\}\}")


class BadRequest(ValueError):
    """The caller's body is not a chat request; `param` names the field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def check_body(body: Any) -> dict:
    """The body as a chat request, or BadRequest naming what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list of messages.", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadRequest(f"messages[{index}] must be an object with a 'role'.", f"messages.{index}")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise BadRequest("'stream' must be true or false.", "stream")
    return body


def caller_system_prompt(messages: list[dict]) -> str | None:
    """The text of the caller's first system message, if any."""
    for message in messages:
        if message.get("role") in SYSTEM_ROLES:
            return message_text(message)
    return None


def _with_version(messages: list[dict], version: VersionRoute) -> list[dict]:
    messages = list(messages)
    system = {"role": "system", "content": version.system_prompt}
    index = next((i for i, m in enumerate(messages) if m.get("role") in SYSTEM_ROLES), None)
    if index is None:
        messages.insert(0, system)
    else:
        messages[index] = system
    if version.user_template:
        last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)
        if last is not None:
            text = message_text(messages[last])
            # A function replacement: the caller's text is inserted literally, never read as a pattern.
            content = _INPUT.sub(lambda _: text, version.user_template)
            messages[last] = {**messages[last], "content": content}
    return messages


def upstream_body(body: dict, *, table: RouteTable, version: VersionRoute | None) -> dict:
    """The body to forward: messages with the version applied, the resolved model and parameters."""
    params = {key: value for key, value in body.items() if key not in RESERVED}
    params.update(table.params)
    messages = body["messages"]
    model = table.model
    if version is not None:
        params.update(version.params)
        messages = _with_version(messages, version)
        model = version.model or table.model
    return {**params, "model": model, "messages": messages}
