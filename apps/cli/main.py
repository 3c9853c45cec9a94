"""Argument parsing and the one place errors become messages and exit codes (no tracebacks for user errors)."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence

from apps.cli import __version__
from apps.cli.client import Api, ApiError, CliError
from apps.cli.commands import activate, apply, deployments, export, promote, pull, status, sweep, validate, versions

COMMANDS = {"validate": validate, "apply": apply, "sweep": sweep, "export": export, "status": status, "pull": pull,
            "deployments": deployments, "versions": versions, "promote": promote, "activate": activate}
EXIT_CODES = """exit codes: 0 success · 1 a CI gate failed or the sweep did not complete ·
2 invalid file, arguments or request · 3 server unreachable, key refused or not found"""


def parser() -> argparse.ArgumentParser:
    # --server and --api-key work before or after the command name.
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--server", default=argparse.SUPPRESS,
                            help="server URL, e.g. http://localhost:8400 (default: $PROMPTLOOPER_URL)")
    connection.add_argument("--api-key", default=argparse.SUPPRESS, help="API key (default: $PROMPTLOOPER_API_KEY)")
    top = argparse.ArgumentParser(prog="promptlooper",
                                  description="Drive a PromptLooper server from files and CI, and ship the winner.",
                                  epilog=EXIT_CODES, parents=[connection])
    top.add_argument("--version", action="version", version=f"promptlooper {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser = functools.partial(sub.add_parser, parents=[connection])  # type: ignore[method-assign]

    cmd = sub.add_parser("validate", help="check an experiment file; errors name their line")
    cmd.add_argument("file")
    cmd.add_argument("--offline", action="store_true", help="only the file's shape; no server checks")

    cmd = sub.add_parser("apply", help="create or update the experiment a file describes")
    cmd.add_argument("file")
    cmd.add_argument("--force", action="store_true",
                     help="send every field even when nothing looks changed (e.g. a new secret value)")

    cmd = sub.add_parser("sweep", help="apply a file and start a sweep; --wait to follow it and rank the runs")
    cmd.add_argument("file")
    cmd.add_argument("--type", default="grid", help="grid (default), random, or a guided planner (e.g. tpe)")
    cmd.add_argument("--n", type=int, help="configurations to try (random and guided sweeps)")
    cmd.add_argument("--seed", type=int)
    cmd.add_argument("--wait", action="store_true", help="follow progress, then print the leaderboard")
    cmd.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (default 3600)")
    cmd.add_argument("--fail-under", type=float, metavar="SCORE", help="exit 1 if the best weighted score is lower")
    cmd.add_argument("--baseline", metavar="RUN_ID",
                     help="exit 1 unless the best run scores at least as well as this run on the same items")
    cmd.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    cmd.add_argument("--markdown", metavar="FILE", help="write a markdown summary (e.g. $GITHUB_STEP_SUMMARY)")

    cmd = sub.add_parser("export", help="export the best (or a given) run of an experiment")
    cmd.add_argument("experiment", help="an experiment id or project/name")
    cmd.add_argument("--format", choices=["env", "json", "yaml", "report"], default="json")
    cmd.add_argument("--run", metavar="RUN_ID", help="export this run instead of the best")
    cmd.add_argument("--baseline", metavar="RUN_ID", help="report only: the run to diff against")
    cmd.add_argument("-o", "--output", metavar="FILE")

    sub.add_parser("status", help="sweeps that are running or paused")

    cmd = sub.add_parser("pull", help="an experiment's definition as an experiment file")
    cmd.add_argument("experiment", help="an experiment id or project/name")
    cmd.add_argument("-o", "--output", metavar="FILE")

    cmd = sub.add_parser("deployments", help="your deployments: active version and running A/B test")
    cmd.add_argument("--json", action="store_true", help="the server's objects as JSON")

    cmd = sub.add_parser("versions", help="a deployment's prompt versions, newest first")
    cmd.add_argument("deployment", help="a deployment id or name")
    cmd.add_argument("--json", action="store_true", help="the server's objects as JSON")

    cmd = sub.add_parser("promote", help="make an approved run a new prompt version of a deployment")
    cmd.add_argument("run", metavar="RUN_ID", help="an approved run (its full id)")
    cmd.add_argument("--deployment", required=True, help="a deployment id or name")
    cmd.add_argument("--stage", metavar="N", help="the stage to promote (index or name); needed for several")
    then = cmd.add_mutually_exclusive_group()
    then.add_argument("--activate", action="store_true", help="make the new version active now")
    then.add_argument("--ab-test", action="store_true",
                      help="start an A/B test of the active version (control) against the new one")
    cmd.add_argument("--split", type=_percent, metavar="PCT",
                     help="with --ab-test: percent of sessions the new version gets (default 50)")
    cmd.add_argument("--ab-test-name", metavar="NAME", help='with --ab-test (default "v<active> vs v<new>")')
    cmd.add_argument("--description", help="the version's description (default: where it came from)")

    cmd = sub.add_parser("activate", help="make a version the one a deployment serves")
    cmd.add_argument("deployment", help="a deployment id or name")
    cmd.add_argument("version", metavar="VERSION", help="its number in the deployment (2 or v2) or its id")
    return top


def _percent(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise argparse.ArgumentTypeError("give a whole percent from 1 to 99")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.server = getattr(args, "server", None) or os.environ.get("PROMPTLOOPER_URL", "")
    args.api_key = getattr(args, "api_key", None) or os.environ.get("PROMPTLOOPER_API_KEY", "")
    api: Api | None = None

    def api_factory() -> Api:
        nonlocal api
        api = api or Api(args.server, args.api_key)
        return api

    try:
        return COMMANDS[args.command].run(args, api_factory)
    except CliError as exc:
        bare = exc.code == 2 and "\n" in str(exc) and not isinstance(exc, ApiError)  # a file's problems, one a line
        print(str(exc) if bare else f"promptlooper {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted (a started sweep keeps running on the server)", file=sys.stderr)
        return 130
    finally:
        if api is not None:
            api.close()
