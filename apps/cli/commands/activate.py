"""`promptlooper activate DEPLOYMENT VERSION`: make that version the one the gateway serves."""

from __future__ import annotations

from apps.cli.lookup import deployment_resolve, version_resolve


def run(args, api_factory) -> int:
    api = api_factory()
    deployment = deployment_resolve(api, args.deployment)
    version = version_resolve(api, deployment, args.version)
    name, number = deployment["name"], version["number"]
    if version["is_active"]:
        print(f"{name}: version {number} is already active")
        return 0
    api.post(f"/prompts/versions/{version['id']}/activate", {})
    previous = deployment["active_version"]
    was = f" (was version {previous['number']})" if previous else ""
    print(f"{name}: version {number} is active{was}; the gateway serves it from its next request")
    return 0
