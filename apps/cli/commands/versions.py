"""`promptlooper versions DEPLOYMENT [--json]`: a deployment's prompt versions, newest first."""

from __future__ import annotations

from apps.cli.lookup import deployment_resolve
from apps.cli.render import json_text, short, table, when


def run(args, api_factory) -> int:
    api = api_factory()
    deployment = deployment_resolve(api, args.deployment)
    versions = list(api.pages(f"/deployments/{deployment['id']}/prompts/versions"))
    if args.json:
        print(json_text(versions))
        return 0
    if not versions:
        print(f"'{deployment['name']}' has no versions yet (the gateway passes callers' prompts through).")
        return 0
    rows = [[f"v{v['number']}", "*" if v["is_active"] else "", v["source_run"] or "—", v["created_by"] or "—",
             when(v["created_at"]), short(v["system_prompt"] or v["user_template"], 40)] for v in versions]
    print(table(["version", "active", "source run", "created by", "created", "prompt"], rows))
    return 0
