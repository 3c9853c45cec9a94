"""`promptlooper validate FILE`: every problem as FILE:LINE: path: message; exit 2 when there is any."""

from __future__ import annotations

import sys
from pathlib import Path

from apps.cli.client import Api
from apps.cli.commands.prepare import load_checked, prepare


def run(args, api_factory) -> int:
    path = Path(args.file)
    if args.offline:
        load_checked(path)
        print(f"{path}: the file is well-formed (not checked by a server: --offline)")
        return 0
    api: Api = api_factory()
    prepared = prepare(api, path)
    stages = len(prepared.normalized["pipeline_stages"])
    items = len(prepared.normalized.get("sample_data") or [])
    print(f"{path}: valid ({stages} stage{'s' * (stages != 1)}, {items} sample item{'s' * (items != 1)}; "
          f"checked by {api.server})")
    sys.stdout.flush()
    return 0
