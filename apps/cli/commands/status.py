"""`promptlooper status`: the sweeps that are pending, running or paused, across your experiments."""

from __future__ import annotations

from apps.cli.render import table


def run(args, api_factory) -> int:
    rows = []
    for sweep in api_factory().pages("/sweeps/active"):
        tokens = sweep["tokens_in"] + sweep["tokens_out"]
        reason = f" ({sweep['pause_reason']})" if sweep["status"] == "paused" and sweep.get("pause_reason") else ""
        rows.append([f"{sweep['project_name']}/{sweep['experiment_name']}", sweep["id"], sweep["kind"],
                     sweep["status"] + reason, f"{sweep['runs_done']}/{sweep['runs_total']}", f"{tokens:,}",
                     f"${float(sweep['cost_usd'] or 0):.4f}", sweep["cache_hits"]])
    if not rows:
        print("No sweep is running or paused.")
        return 0
    print(table(["experiment", "sweep", "type", "status", "runs", "tokens", "cost", "cache hits"], rows))
    return 0
