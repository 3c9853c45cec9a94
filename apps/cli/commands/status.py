"""`promptlooper status`: the sweeps that are pending, running or paused, across your experiments."""

from __future__ import annotations

from apps.cli.render import table

ACTIVE = {"pending", "running", "paused"}


def run(args, api_factory) -> int:
    api = api_factory()
    rows = []
    for status in ("running", "paused"):
        for experiment in api.pages("/experiments", status=status):
            sweeps = api.get(f"/experiments/{experiment['id']}/sweeps", page_size=20)["results"]
            for sweep in sweeps:
                if sweep["status"] in ACTIVE:
                    tokens = sweep["tokens_in"] + sweep["tokens_out"]
                    rows.append([f"{experiment['project_name']}/{experiment['name']}", sweep["id"], sweep["kind"],
                                 sweep["status"], f"{sweep['runs_done']}/{sweep['runs_total']}", f"{tokens:,}",
                                 f"${float(sweep['cost_usd'] or 0):.4f}", sweep["cache_hits"]])
    if not rows:
        print("No sweep is running or paused.")
        return 0
    print(table(["experiment", "sweep", "type", "status", "runs", "tokens", "cost", "cache hits"], rows))
    return 0
