"""`promptlooper export EXPERIMENT --format env|json|yaml|report`: the server's export of the best (or a given) run."""

from __future__ import annotations

import sys
from pathlib import Path

from apps.cli.lookup import experiment_resolve

PATHS = {"json": "best", "env": "env", "yaml": "yaml", "report": "report"}


def run(args, api_factory) -> int:
    api = api_factory()
    experiment = experiment_resolve(api, args.experiment)
    params = {key: value for key, value in (("run", args.run), ("baseline", args.baseline)) if value}
    response = api.request("GET", f"/experiments/{experiment['id']}/export/{PATHS[args.format]}",
                           params=params or None, raw=True)
    if args.output:
        Path(args.output).write_bytes(response.content)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
    return 0
