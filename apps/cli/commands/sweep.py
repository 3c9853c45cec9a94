"""`promptlooper sweep FILE`: apply the file, start a sweep, and with --wait follow it and rank its runs.

Exit codes: 0 done (and every gate passed), 1 a gate failed or the sweep did not complete, 2 the file or
request is invalid, 3 the server is unreachable or refused the key.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from apps.cli import gates as gate_checks
from apps.cli.client import Api, CliError
from apps.cli.commands.apply import apply_file
from apps.cli.lookup import endpoint_ids_by_label
from apps.cli.render import Progress, point_text, score_text, table
from apps.cli.reports import junit_write, markdown_write

FINISHED = {"completed", "stopped", "failed", "paused"}
POLL_S = 0.5


def run(args, api_factory) -> int:
    api: Api = api_factory()
    started_at = time.monotonic()
    applied = apply_file(api, Path(args.file))
    experiment = applied.experiment
    title = f"{experiment['project_name']}/{experiment['name']}"
    print(f"{applied.outcome}: {title} {experiment['id']}", file=sys.stderr)
    request = {"type": args.type, **({"n": args.n} if args.n else {}), **({"seed": args.seed} if args.seed else {})}
    started = api.post(f"/experiments/{experiment['id']}/sweep", request)
    sweep = started["sweep"]
    if started.get("note"):
        print(f"note: {started['note']}", file=sys.stderr)
    print(f"sweep {sweep['id']} started: {sweep['runs_total']} runs", file=sys.stderr)
    if not (args.wait or args.fail_under is not None or args.baseline or args.junit or args.markdown):
        print(sweep["id"])
        return 0
    sweep = _follow(api, sweep, timeout_s=args.timeout)
    rows = _sweep_rows(api, experiment["id"], sweep["id"])
    labels = {id_: label for label, id_ in endpoint_ids_by_label(api).items()}
    print(_leaderboard(rows, labels) if rows else "No scored runs.")
    best = rows[0] if rows else None
    gates = []
    if args.fail_under is not None:
        gates.append(gate_checks.fail_under(best, args.fail_under))
    if args.baseline:
        gates.append(gate_checks.baseline(api, best, args.baseline))
    for gate in gates:
        print(f"{'PASS' if gate.passed else 'FAIL'} {gate.name}: {gate.message}", file=sys.stderr)
    if args.junit:
        junit_write(Path(args.junit), title=title, sweep=sweep, gates=gates, seconds=time.monotonic() - started_at)
    if args.markdown:
        markdown_write(Path(args.markdown), title=title, sweep=sweep, gates=gates, rows=rows, labels=labels)
    if sweep["status"] != "completed":
        reason = f" ({sweep['pause_reason']})" if sweep.get("pause_reason") else ""
        print(f"the sweep ended {sweep['status']}{reason}", file=sys.stderr)
        return 1
    return 0 if all(gate.passed for gate in gates) else 1


def _follow(api: Api, sweep: dict, *, timeout_s: float) -> dict:
    progress = Progress()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            progress.update(sweep)
            if sweep["status"] in FINISHED:
                return sweep
            if time.monotonic() > deadline:
                raise CliError(f"sweep {sweep['id']} did not finish within {timeout_s:g}s (it keeps running).",
                               code=1)
            time.sleep(POLL_S)  # polling the server for another process's progress
            sweep = api.get(f"/sweeps/{sweep['id']}")
    finally:
        progress.end()


def _sweep_rows(api: Api, experiment_id: str, sweep_id: str) -> list[dict]:
    """Leaderboard rows (best first) of this sweep's runs only: an older sweep's best must not hide a regression."""
    ours = {run["id"] for run in api.pages(f"/experiments/{experiment_id}/runs", sweep=sweep_id)}
    rows, offset = [], 0
    while ours:
        page = api.get(f"/experiments/{experiment_id}/leaderboard", limit=500, offset=offset)
        rows += [row for row in page["results"] if row["run_id"] in ours]
        offset += 500
        if offset >= page["count"] or len(rows) == len(ours):
            break
    return rows


def _leaderboard(rows: list[dict], labels: dict[str, str]) -> str:
    body = [[row["rank"], row["run_id"][:8], row["status"], score_text(row["weighted_score"], row["weighted_ci"]),
             point_text(row["point"], labels), f"{row['tokens_in'] + row['tokens_out']:,}",
             f"${float(row['cost_usd']):.4f}"] for row in rows]
    return table(["rank", "run", "status", "score [95% CI]", "configuration", "tokens", "cost"], body)
