"""`promptlooper deployments [--json]`: your deployments, each with its active version and running A/B test."""

from __future__ import annotations

from apps.cli.client import Api
from apps.cli.render import ab_test_text, json_text, table


def running_ab_test(api: Api, deployment: dict) -> dict | None:
    running = api.get(f"/deployments/{deployment['id']}/prompts/experiments", status="running")["results"]
    return running[0] if running else None  # the server runs at most one test per deployment


def run(args, api_factory) -> int:
    api = api_factory()
    deployments = [{**d, "running_ab_test": running_ab_test(api, d)} for d in api.pages("/deployments")]
    if args.json:
        print(json_text(deployments))
        return 0
    if not deployments:
        print("No deployments yet.")
        return 0
    rows = [[d["name"], d["id"], d["model"], f"v{d['active_version']['number']}" if d["active_version"] else "—",
             ab_test_text(d["running_ab_test"]) if d["running_ab_test"] else "—"] for d in deployments]
    print(table(["deployment", "id", "model", "active", "running A/B test"], rows))
    return 0
