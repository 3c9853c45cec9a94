"""Shared by the MCP tests: connect the SDK's client to a server, and read tool results."""

from __future__ import annotations

import json
import uuid
from contextlib import asynccontextmanager

from mcp.client import Client

from apps.mcp.auth import StaticPrincipal
from apps.mcp.server import build_server

# Arguments that pass each tool's schema (so a refusal comes from auth or ownership, not validation).
EXTRA_ARGS = {"add_human_score": {"thumbs": "up"}, "create_experiment": {"pipeline_stages": []}}


@asynccontextmanager
async def in_memory(key: str):
    """The SDK's client on the server in this process, calling as the owner of `key` (as stdio does)."""
    async with Client(build_server(StaticPrincipal(key))) as client:
        yield client


def text_of(result) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def structured(result) -> dict:
    assert not result.is_error, text_of(result)
    return result.structured_content or json.loads(text_of(result))


def valid_arguments(tool) -> dict:
    """The tool's required arguments filled with well-formed values (ids that name nothing)."""
    args = {}
    for name in tool.input_schema.get("required", []):
        prop = tool.input_schema["properties"][name]
        kind = prop.get("type")
        if prop.get("format") == "uuid":
            args[name] = str(uuid.uuid4())
        elif kind == "array":
            args[name] = []
        elif kind == "object":
            args[name] = {}
        elif kind == "integer":
            args[name] = 1
        else:
            args[name] = "x"
    return args | EXTRA_ARGS.get(tool.name, {})
