"""The MCP server: the registry's tools over the SDK's MCPServer, for one way of finding the caller."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from apps.mcp.auth import Principal
from apps.mcp.registry import build_tool
from apps.mcp.tools import TOOLS

INSTRUCTIONS = (
    "PromptLooper runs prompt and parameter sweeps against LLM endpoints and ranks the results. A typical "
    "session: configure_endpoint (or list_models on an existing one) -> create_project -> create_experiment "
    "(sample items, pipeline stages, scorers, parameter space) -> estimate_sweep -> run_sweep with wait=true -> "
    "get_leaderboard -> export_best_config. Errors name the field that is wrong."
)


def build_server(principal: Principal) -> MCPServer:
    return MCPServer(name="promptlooper", title="PromptLooper", instructions=INSTRUCTIONS,
                     tools=[build_tool(spec, principal) for spec in TOOLS])
