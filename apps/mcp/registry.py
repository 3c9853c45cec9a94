"""The tool registry as plain data: a strict argument model, an output model, truthful hints, one function.

Every call resolves its user from the credentials (apps.mcp.auth), runs the function (sync ones in Django's
thread for ORM work) and turns the service error contract into MCP tool errors whose text names the field.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict

from apps.accounts.models import User
from apps.core.errors import ServiceError, Unauthenticated
from apps.mcp.auth import Principal, user_for_token


class Args(ArgModelBase):
    """Tool arguments: an unknown or misspelled name is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")

    def model_dump_one_level(self) -> dict[str, Any]:
        # Only what the caller sent (invoke fills in the defaults), so a tool can tell an explicit null, which
        # clears a value as in a REST PATCH, from an argument left out.
        return {name: value for name, value in super().model_dump_one_level().items()
                if name in self.model_fields_set}


class Strict(BaseModel):
    """A nested argument object, as strict as the top level."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Call:
    """What a tool function gets besides its arguments: the caller and the MCP request context."""

    user: User
    ctx: Context


ToolFn = Callable[[Call, Any], Any] | Callable[[Call, Any], Awaitable[Any]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args: type[Args]
    output: type[BaseModel]
    fn: ToolFn
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False  # true for the tools that call the user's LLM endpoints

    @property
    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(read_only_hint=self.read_only, destructive_hint=self.destructive,
                               idempotent_hint=self.idempotent, open_world_hint=self.open_world)


def error_text(exc: ServiceError) -> str:
    """`field.path: message` for each field error, then the detail (the REST body, flattened)."""
    parts = [f"{key}: {' '.join(messages)}" for key, messages in exc.errors.items()]
    return "; ".join([*parts, *([exc.detail] if exc.detail else [])]) or type(exc).__name__


def _refusal(exc: Exception) -> ToolError:
    if isinstance(exc, Http404):
        detail = exc.detail if isinstance(exc, ServiceError) else ""
        return ToolError(f"not found: {detail}" if detail else "not found")
    if isinstance(exc, ServiceError):
        return ToolError(error_text(exc))
    if isinstance(exc, PermissionDenied):
        return ToolError(str(exc) or "forbidden")
    return ToolError(str(exc))


async def invoke(spec: ToolSpec, principal: Principal, ctx: Context, fields: dict[str, Any]) -> Any:
    try:
        user = await sync_to_async(user_for_token)(principal.token(ctx.headers))
        call, args = Call(user=user, ctx=ctx), spec.args.model_construct(**fields)
        if inspect.iscoroutinefunction(spec.fn):
            return await spec.fn(call, args)
        return await sync_to_async(spec.fn)(call, args)
    except (Unauthenticated, ServiceError, Http404, PermissionDenied) as exc:
        raise _refusal(exc) from exc


def build_tool(spec: ToolSpec, principal: Principal) -> Tool:
    async def run(ctx: Context, **fields: Any) -> Any:
        return await invoke(spec, principal, ctx, fields)

    return Tool(
        fn=run, name=spec.name, description=spec.description, parameters=spec.args.model_json_schema(),
        fn_metadata=FuncMetadata(arg_model=spec.args, output_model=spec.output), is_async=True,
        context_kwarg="ctx", annotations=spec.annotations,
    )
