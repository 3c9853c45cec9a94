"""`promptlooper promote RUN --deployment D [--stage N] [--activate | --ab-test [--split PCT]]`.

An approved run's prompt, model and parameters become a version of the deployment (the server's
POST /runs/{id}/promote); it waits, becomes active, or is A/B tested against the active version.
"""

from __future__ import annotations

import shlex

from apps.cli.client import CliError, is_uuid
from apps.cli.lookup import deployment_resolve
from apps.cli.render import ab_test_text


def request_body(args, deployment: dict) -> dict:
    if not args.ab_test and (args.split is not None or args.ab_test_name):
        raise CliError("--split and --ab-test-name go with --ab-test.")
    body: dict = {"deployment_id": deployment["id"], "activate": args.activate, "start_ab_test": args.ab_test}
    if args.stage is not None:
        body["stage"] = int(args.stage) if args.stage.isdigit() else args.stage
    if args.ab_test:
        new = 50 if args.split is None else args.split
        body["split"] = [100 - new, new]
        if args.ab_test_name:
            body["ab_test_name"] = args.ab_test_name
    if args.description:
        body["description"] = args.description
    return body


def run(args, api_factory) -> int:
    if not is_uuid(args.run):
        raise CliError(f"'{args.run}' is not a run id (the full id, as the run page or the REST API shows it).")
    api = api_factory()
    deployment = deployment_resolve(api, args.deployment)
    body = request_body(args, deployment)
    newest = api.get(f"/deployments/{deployment['id']}/prompts/versions", page_size=1)["results"]
    promoted = api.post(f"/runs/{args.run}/promote", body)
    version, ab_test = promoted["version"], promoted["ab_test"]
    name, number = deployment["name"], version["number"]
    existed = bool(newest) and number <= newest[0]["number"]
    head = (f"{name} version {number}: the same prompt as this run's, already there" if existed
            else f"{name} version {number}: created from run {args.run[:8]}")
    if ab_test:
        tail = f"A/B test '{ab_test_text(ab_test)}' started (id {ab_test['id']})"
    elif version["is_active"]:
        tail = "active; the gateway serves it from its next request"
    else:
        active = deployment["active_version"]
        keeps = f"version {active['number']} stays active" if active else "not active"
        tail = f"waiting ({keeps}; `promptlooper activate {shlex.quote(name)} {number}` switches)"
    print(f"{head}; {tail}")
    return 0
