"""The Python scorer and its sandbox: hostile snippets fail cleanly, and the worker carries on.

Every hostile test ends with `assert_worker_survives()`: the calling process scores a valid
snippet right afterwards, through the same path a sweep uses.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from pathlib import Path

import pytest

from apps.engine import sandbox
from apps.engine.sandbox import SandboxLimits, network_isolation_available, run_sandboxed
from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.python import DISABLED_MESSAGE, PythonScorer

FAST = {"timeout_s": 1}


def snippet(body: str, *, prelude: str = "") -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"{prelude}\ndef score(item, output, context):\n{lines}\n"


def run(code: str, *, item: dict | None = None, output: str = "answer", enabled: bool = True, **options):
    scorer = PythonScorer({"code": code, **FAST, **options})
    ctx = ScoringContext(item=item or {"id": "1", "expected": "answer"}, output=output, python_enabled=enabled,
                         stage_outputs={"draft": "d"}, run_id="run-1", repeat=2)
    return asyncio.run(scorer.score(ctx))


def raw(code: str, **limits):
    return asyncio.run(run_sandboxed(code=code, item={}, output="", context={},
                                     limits=SandboxLimits(**{"timeout_s": 1, **limits})))


def assert_worker_survives() -> None:
    result = run(snippet('return 1.0 if output == item["expected"] else 0.0'))
    assert (result.value, result.error) == (1.0, "")


def session_members(sid: int) -> list[int]:
    """Live processes in the session the sandbox child led (descendants keep it: they cannot setsid)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat.rpartition(")")[2].split()[3]) == sid:
            pids.append(int(entry.name))
    return pids


def assert_nothing_left(outcome) -> None:
    with pytest.raises(ProcessLookupError):
        os.killpg(outcome.pid, 0)
    assert session_members(outcome.pid) == []


# Valid snippets


def test_a_snippet_returning_a_float_scores_that_float():
    result = run(snippet("return 0.25"))
    assert result.value == 0.25 and result.error == ""
    assert result.metadata["duration_ms"] >= 0


def test_a_snippet_sees_item_output_and_context():
    code = snippet('return {"score": 1, "reason": json.dumps([item["id"], output, context])}', prelude="import json")
    result = run(code)
    item_id, output, context = json.loads(result.metadata["reason"])
    assert (item_id, output) == ("1", "answer")
    assert context == {"stage_outputs": {"draft": "d"}, "config": {}, "run_id": "run-1", "repeat": 2}


@pytest.mark.parametrize(("returned", "expected"), [("True", 1.0), ("False", 0.0), ("1", 1.0), ("0", 0.0)])
def test_a_snippet_returning_a_bool_or_0_or_1_scores_it(returned, expected):
    assert run(snippet(f"return {returned}")).value == expected


def test_a_snippet_returning_score_and_reason_keeps_the_reason():
    result = run(snippet('return {"score": 0.5, "reason": "half right"}'))
    assert result.value == 0.5
    assert result.metadata["reason"] == "half right"


def test_a_long_reason_is_cut_to_4_kib_and_stripped_of_nul_characters():
    result = run(snippet('return {"score": 1, "reason": "a\\x00b" + "x" * 10000}'))
    assert result.metadata["reason"].startswith("ab")
    assert len(result.metadata["reason"]) == 4097


def test_print_output_from_the_snippet_does_not_confuse_the_result():
    assert run(snippet('print("debug", 2.0)\nprint(\'{"result": 0.9}\')\nreturn 0.1')).value == 0.1
    assert run(snippet('print("no newline", end="")\nreturn 0.2')).value == 0.2


# Invalid results


@pytest.mark.parametrize(("returned", "message"), [
    ('float("nan")', "not a finite number"),
    ('float("inf")', "not a finite number"),
    ("2.0", "outside [0, 1]"),
    ("-0.1", "outside [0, 1]"),
    ('"1; DROP"', "must return a number in [0, 1]"),
    ("None", "must return a number in [0, 1]"),
    ("[1]", "must return a number in [0, 1]"),
    ('{"score": 5}', "outside [0, 1]"),
    ('{"scroe": 1}', "expected a number in [0, 1]"),
    ('{"score": 1, "reason": 3}', '"reason" of type int'),
    ("{1, 2}", "returned a set"),
])
def test_an_invalid_return_value_is_a_clear_scorer_error(returned, message):
    result = run(snippet(f"return {returned}"))
    assert result.value is None
    assert message in result.error
    assert result.metadata["error_code"] == "scorer_bad_output"
    assert_worker_survives()


def test_an_exception_in_the_snippet_reports_its_last_traceback_line_and_line_number():
    result = run(snippet("x = 1\nreturn x / 0"))
    assert result.value is None
    assert result.error == "Python scorer raised ZeroDivisionError: division by zero (line 4)"
    assert result.metadata["error_code"] == "scorer_exception"
    assert_worker_survives()


def test_a_snippet_calling_exit_is_an_error_not_a_crash():
    result = run(snippet("raise SystemExit(3)", prelude="import sys"))
    assert result.value is None and "SystemExit: 3" in result.error
    assert_worker_survives()


# Feature flag and options


def test_python_scorers_are_refused_while_the_feature_is_disabled():
    result = run(snippet("return 1.0"), enabled=False)
    assert result.value is None
    assert result.error == DISABLED_MESSAGE
    assert result.error == "Python scorers are disabled; an admin can enable them with SCORERS_PYTHON_ENABLED=true"
    assert result.metadata["error_code"] == "feature_disabled"


def test_options_get_defaults_for_timeout_and_memory():
    options = PythonScorer.validate_options({"code": snippet("return 1")})
    assert (options["timeout_s"], options["memory_mb"]) == (5.0, 256)


def test_a_syntax_error_is_rejected_at_options_time_naming_code_and_the_line():
    with pytest.raises(OptionsInvalid) as caught:
        PythonScorer.validate_options({"code": "def score(item, output, context):\n    return (1\n"})
    assert caught.value.field == "code"
    assert "line 2" in caught.value.message


@pytest.mark.parametrize(("code", "message"), [
    ("x = 1\n", "def score(item, output, context)"),
    ("async def score(item, output, context):\n    return 1\n", "not `async def`"),
    ("def score(item):\n    return 1\n", "must take (item, output, context)"),
    ("def score(a, b, c, d):\n    return 1\n", "must take (item, output, context)"),
    ("def score(item, output, context):\n    return 1\n" + "#" * 20_000, "at most 20000 characters"),
    ("def score(item, output, context):\n    return 1 # \x00\n", "NUL"),
    ("", "non-empty"),
])
def test_code_without_a_proper_score_function_is_rejected(code, message):
    with pytest.raises(OptionsInvalid) as caught:
        PythonScorer.validate_options({"code": code})
    assert caught.value.field == "code" and message in caught.value.message


def test_star_args_and_defaults_are_accepted_in_the_score_signature():
    PythonScorer.validate_options({"code": "def score(*args):\n    return 1\n"})
    PythonScorer.validate_options({"code": "def score(item, output, context=None, extra=1):\n    return 1\n"})


@pytest.mark.parametrize(("options", "field"), [
    ({"timeout_s": 31}, "timeout_s"), ({"timeout_s": 0}, "timeout_s"), ({"timeout_s": True}, "timeout_s"),
    ({"memory_mb": 2048}, "memory_mb"), ({"memory_mb": 1.5}, "memory_mb"), ({"memroy_mb": 1}, "memroy_mb"),
])
def test_out_of_range_or_unknown_options_are_rejected_by_name(options, field):
    with pytest.raises(OptionsInvalid) as caught:
        PythonScorer.validate_options({"code": snippet("return 1"), **options})
    assert caught.value.field == field


# Hostile snippets


def test_an_infinite_loop_times_out_and_its_process_group_is_killed():
    started = time.monotonic()
    outcome = raw(snippet("while True:\n    pass"))
    assert time.monotonic() - started < 2.5
    assert outcome.error_code == "scorer_timeout" and "timed out after 1 s" in outcome.error
    assert_nothing_left(outcome)
    result = run(snippet("while True:\n    pass"))
    assert result.value is None and result.metadata["error_code"] == "scorer_timeout"
    assert_worker_survives()


def test_a_long_sleep_times_out():
    started = time.monotonic()
    outcome = raw(snippet("time.sleep(60)", prelude="import time"))
    assert time.monotonic() - started < 2.5
    assert outcome.error_code == "scorer_timeout"
    assert_nothing_left(outcome)
    result = run(snippet("time.sleep(60)", prelude="import time"))
    assert result.value is None and result.metadata["error_code"] == "scorer_timeout"
    assert_worker_survives()


@pytest.mark.parametrize("body", ['x = "a" * 10**10', "grow = []\nwhile True:\n    grow.append('x' * 10**6)"])
def test_a_memory_bomb_fails_with_a_memory_error_and_leaves_the_worker_small(body):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run(snippet(body), memory_mb=128)
    assert result.value is None
    assert "MemoryError" in result.error and "memory limit is 128 MiB" in result.error
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20 * 1024
    assert_worker_survives()


def test_a_fork_bomb_fails_and_leaves_no_process_behind():
    outcome = raw(snippet("while True:\n    os.fork()", prelude="import os"))
    assert not outcome.ok and outcome.error_code == "scorer_exception"
    assert "BlockingIOError" in outcome.error
    assert_nothing_left(outcome)
    result = run(snippet("while True:\n    os.fork()", prelude="import os"))
    assert result.value is None
    assert_worker_survives()


def test_starting_a_thread_or_a_subprocess_is_refused():
    thread = run(snippet("threading.Thread(target=print).start()", prelude="import threading"))
    assert "can't start new thread" in thread.error
    child = raw(snippet('subprocess.run(["/bin/sleep", "30"])', prelude="import subprocess"))
    assert child.error_code == "scorer_exception" and "BlockingIOError" in child.error
    assert_nothing_left(child)
    assert_worker_survives()


def test_huge_output_is_cut_off_as_output_too_large():
    result = run(snippet('print("x" * 4 * 2**20)'))
    assert result.value is None
    assert result.metadata["error_code"] == "scorer_output_too_large" and "output too large" in result.error
    stderr = run(snippet('import sys\nwhile True:\n    sys.stderr.write("y" * 65536)'))
    assert stderr.metadata["error_code"] == "scorer_output_too_large"
    assert_worker_survives()


def test_a_big_file_write_hits_the_file_size_limit_and_the_temp_dir_is_removed():
    result = run(snippet('open("big", "w").write("x" * 5 * 2**20)'))
    assert result.value is None and "File too large" in result.error
    where = run(snippet('return {"score": 1, "reason": os.getcwd()}', prelude="import os"))
    workdir = Path(where.metadata["reason"])
    assert workdir.name.startswith("pl-scorer-") and not workdir.exists()
    assert_worker_survives()


def test_the_snippet_sees_no_environment_variables_from_the_worker(monkeypatch):
    canary = "canary-secret-4f1c9e"
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "DATABASE_URL", "OPENAI_API_KEY"):
        monkeypatch.setenv(name, canary)
    result = run(snippet('return {"score": 0, "reason": json.dumps(dict(os.environ))}', prelude="import json, os"))
    assert result.metadata["reason"] == "{}"
    assert canary not in json.dumps(result.metadata)
    assert_worker_survives()


def test_the_snippet_cannot_read_the_workers_secrets_when_it_runs_as_nobody(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("canary-secret-file")
    secret.chmod(0o600)
    reads = {
        "file": run(snippet(f'return {{"score": 0, "reason": open({str(secret)!r}).read()}}')),
        "worker environ": run(snippet('return {"score": 0, "reason": open(f"/proc/{os.getppid()}/environ").read()}',
                                      prelude="import os")),
    }
    if os.geteuid() != 0:
        assert all(r.metadata["privileges_dropped"] is False for r in reads.values())
        pytest.skip("the worker is not root, so the snippet keeps the worker's uid (documented limit)")
    for result in reads.values():
        assert result.metadata["privileges_dropped"] is True
        assert result.value is None and "PermissionError" in result.error
        assert "canary" not in json.dumps(result.metadata)
    assert_worker_survives()


def test_the_snippet_cannot_reach_a_canary_on_loopback_when_isolation_is_available(canary):
    code = snippet(
        'try:\n'
        '    s = socket.create_connection(("127.0.0.1", item["port"]), timeout=0.5)\n'
        '    s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")\n'
        '    s.recv(10)\n'
        '    return {"score": 1, "reason": "connected"}\n'
        'except OSError as exc:\n'
        '    return {"score": 0, "reason": str(exc)}',
        prelude="import socket",
    )
    result = run(code, item={"port": canary.port})
    assert result.metadata["network_isolated"] is network_isolation_available()
    if result.metadata["network_isolated"]:
        assert (result.value, canary.hits) == (0.0, 0)
        assert "unreachable" in result.metadata["reason"]
    else:
        assert sandbox.sandbox_probe()["network_isolated"] is False
    assert_worker_survives()


def test_the_probe_reports_what_the_sandbox_enforces_on_this_host():
    probe = sandbox.sandbox_probe()
    assert set(probe) >= {"network_isolated", "privileges_dropped", "error"}
    assert probe["privileges_dropped"] is (os.geteuid() == 0)
    assert network_isolation_available() is probe["network_isolated"]


def test_concurrent_snippets_do_not_interfere():
    async def many():
        scorers = [PythonScorer({"code": snippet(f"return {i / 10}"), **FAST}) for i in range(8)]
        ctx = ScoringContext(item={}, output="", python_enabled=True)
        return await asyncio.gather(*(s.score(ctx) for s in scorers))

    assert [r.value for r in asyncio.run(many())] == [i / 10 for i in range(8)]
