"""Every MCP tool, in the order `tools/list` shows them: one module per area, each with its TOOLS."""

from apps.mcp.tools import activity, analytics, deployments, endpoints, experiments, exports, projects, runs, sweeps

TOOLS = [*projects.TOOLS, *experiments.TOOLS, *endpoints.TOOLS, *sweeps.TOOLS, *runs.TOOLS, *exports.TOOLS,
         *activity.TOOLS, *deployments.TOOLS, *analytics.TOOLS]
