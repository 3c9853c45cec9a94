"""Run an untrusted Python snippet in a throwaway child process: the boundary behind Python scorers.

Each call starts `python -I -S -c BOOTSTRAP` (isolated mode: no site-packages, no PYTHON* variables)
with an empty environment, in a fresh temp directory that is removed afterwards, as the leader of a
new session and process group. Before any user code runs, the bootstrap, in the child:

- moves into a new network namespace (`unshare(CLONE_NEWNET)`; with `CLONE_NEWUSER` too when the
  worker is not root) where only a downed loopback exists, so no TCP/UDP at all, not even 127.0.0.1.
  When the kernel or a container's seccomp profile refuses, the snippet runs WITH the worker's
  network; `network_isolation_available()` lets the admin page say "network isolation unavailable";
- drops root to nobody (65534) when the worker runs as root, and refuses to run if that fails;
- sets rlimits on CPU time, address space, file size (1 MiB), open files (32), core dumps (0) and
  processes (0: no fork, no threads, since RLIMIT_NPROC binds every uid but root).

The parent enforces a wall-clock timeout that SIGKILLs the whole process group, caps stdout at
64 KiB and stderr at 1 MiB (output beyond either kills the child), and keeps stderr's last 4 KiB.
The rlimits are set in the bootstrap rather than in `preexec_fn`, which is unsafe in threaded parents.

What this does NOT isolate (document it to admins; authoring a snippet is shell access, so only
admins may): the filesystem. The snippet can read whatever nobody (or, for a non-root worker, the
worker's own uid, including /proc/<worker>/environ) can read, write to world-writable places such as
/tmp (each file ≤ 1 MiB), and connect to Unix sockets whose permissions allow it, since those are not
network-namespaced. Keep DATA_DIR and the database file mode 0600; for a stronger boundary run the
worker in a container with `network_mode: none` and a read-only root filesystem.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

MARKER = "promptlooper-scorer-sandbox"  # in every child's argv, so `ps` shows what it is
NOBODY = 65534
STDOUT_CAP = 64 * 1024
STDERR_CAP = 1024 * 1024
STDERR_TAIL = 4 * 1024
FILE_SIZE_LIMIT = 1024 * 1024
OPEN_FILES_LIMIT = 32

_BOOTSTRAP = r'''
import json, os, resource, signal, sys, traceback

def emit(obj):
    data = ("\n" + json.dumps(obj, allow_nan=True) + "\n").encode()
    while data:
        data = data[os.write(1, data):]

def unshare_network():
    flags = 0x40000000 if os.geteuid() == 0 else 0x40000000 | 0x10000000
    try:
        if hasattr(os, "unshare"):
            os.unshare(flags)
            return True
        import ctypes
        return ctypes.CDLL(None, use_errno=True).unshare(flags) == 0
    except Exception:
        return False

def drop_root():
    # The stdlib may sit under a directory only root may enter (/root/.pyenv): reach it via fds opened now.
    aliases = {}
    for entry in sys.path:
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        alias = "/proc/self/fd/%d" % fd
        aliases[entry] = alias if os.path.isdir(alias) else entry
    sys.path[:] = list(aliases.values())
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if isinstance(path, list):
            path[:] = [next((aliases[e] + p[len(e):] for e in sorted(aliases, key=len, reverse=True)
                             if p.startswith(e + os.sep)), p) for p in path]
    sys.path_importer_cache.clear()
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)

def describe(exc):
    line = traceback.format_exception_only(type(exc), exc)[-1].strip()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<scorer>"]
    return line + (" (line %d)" % frames[-1].lineno if frames else "")

def main():
    mode, cpu, memory, fsize, nofile = sys.argv[2], *map(int, sys.argv[3:7])
    payload = None if mode == "probe" else json.loads(sys.stdin.buffer.read())
    isolated = unshare_network()
    dropped = False
    if os.geteuid() == 0:
        try:
            drop_root()
            dropped = True
        except OSError as exc:
            emit({"fatal": "could not drop root privileges: %s" % exc})
            os._exit(3)
    os.environ.clear()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for limit, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory),
                         (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_NOFILE, nofile),
                         (resource.RLIMIT_NPROC, 0)):
        resource.setrlimit(limit, (value, value + 1 if limit == resource.RLIMIT_CPU else value))
    emit({"sandbox": {"network_isolated": isolated, "privileges_dropped": dropped, "uid": os.getuid()}})
    if mode == "probe":
        os._exit(0)
    namespace = {"__name__": "__scorer__"}
    try:
        exec(compile(payload["code"], "<scorer>", "exec", dont_inherit=True), namespace)
        function = namespace.get("score")
        if not callable(function):
            raise NameError("the code does not define score(item, output, context)")
        value = function(payload["item"], payload["output"], payload["context"])
        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            line = json.dumps({"result": value}, allow_nan=True)
        except (TypeError, ValueError, RecursionError):
            line = json.dumps({"bad_output": "score() returned a %s, which is not a number, a bool or "
                                             "{score, reason}" % type(value).__name__})
        data = ("\n" + line + "\n").encode()
        while data:
            data = data[os.write(1, data):]
    except BaseException as exc:  # SystemExit and the like are the snippet's failure too
        try:
            sys.stdout.flush()
        except Exception:
            pass
        emit({"error": describe(exc)})
    os._exit(0)

main()
'''


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 5.0
    memory_mb: int = 256


@dataclass
class SandboxOutcome:
    """What one run produced: `value` is score()'s raw return when ok, else `error`/`error_code`."""

    ok: bool
    value: Any = None
    error: str = ""
    error_code: str = ""
    network_isolated: bool = False
    privileges_dropped: bool = False
    pid: int = 0
    duration_ms: int = 0


def _argv(mode: str, limits: SandboxLimits) -> list[str]:
    cpu = int(limits.timeout_s) + 1
    return [sys.executable, "-I", "-S", "-c", _BOOTSTRAP, MARKER, mode, str(cpu),
            str(limits.memory_mb * 1024 * 1024), str(FILE_SIZE_LIMIT), str(OPEN_FILES_LIMIT)]


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Capture:
    """Reads one pipe to EOF, keeping at most `keep` bytes (the head or the tail), counting the rest."""

    def __init__(self, cap: int, keep: int, tail: bool) -> None:
        self.cap, self.keep, self.tail = cap, keep, tail
        self.data, self.total = bytearray(), 0

    async def pump(self, stream: asyncio.StreamReader, on_overflow) -> None:
        while chunk := await stream.read(65536):
            self.total += len(chunk)
            self.data += chunk
            if len(self.data) > self.keep:
                self.data = self.data[-self.keep:] if self.tail else self.data[:self.keep]
            if self.total > self.cap:
                on_overflow()
                return

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


async def run_sandboxed(*, code: str, item: Any, output: str, context: dict[str, Any],
                        limits: SandboxLimits) -> SandboxOutcome:
    """Run `score(item, output, context)` from `code` in a fresh sandboxed child; never raises for bad code."""
    payload = json.dumps({"code": code, "item": item, "output": output, "context": context},
                         default=str).encode()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pl-scorer-", ignore_cleanup_errors=True) as workdir:
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
        try:
            proc = await asyncio.create_subprocess_exec(
                *_argv("run", limits), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=workdir, env={}, start_new_session=True,
            )
        except OSError as exc:
            return SandboxOutcome(ok=False, error=f"Python scorer could not start: {exc}",
                                  error_code="scorer_sandbox_failed")
        out = _Capture(STDOUT_CAP, STDOUT_CAP, tail=False)
        err = _Capture(STDERR_CAP, STDERR_TAIL, tail=True)
        overflow, timed_out = [], False

        def too_much() -> None:
            overflow.append(True)
            _kill_group(proc.pid)

        async def feed() -> None:
            try:
                proc.stdin.write(payload)
                await proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                proc.stdin.close()

        async def exchange() -> None:
            await asyncio.gather(feed(), out.pump(proc.stdout, too_much), err.pump(proc.stderr, too_much))
            await proc.wait()

        try:
            await asyncio.wait_for(exchange(), limits.timeout_s)
        except TimeoutError:
            timed_out = True
        finally:
            if proc.returncode is None:
                _kill_group(proc.pid)
            await proc.wait()
    outcome = _interpret(out.data.decode("utf-8", "replace"), err.text(), proc.returncode, limits,
                         timed_out=timed_out, overflow=bool(overflow))
    outcome.pid, outcome.duration_ms = proc.pid, round((time.monotonic() - started) * 1000)
    return outcome


def _interpret(stdout: str, stderr: str, returncode: int, limits: SandboxLimits, *,
               timed_out: bool, overflow: bool) -> SandboxOutcome:
    lines = [line for line in stdout.splitlines() if line.strip()]
    header = _json_line(lines[0]) if lines else None
    sandbox = header.get("sandbox", {}) if isinstance(header, dict) else {}
    facts = {"network_isolated": bool(sandbox.get("network_isolated")),
             "privileges_dropped": bool(sandbox.get("privileges_dropped"))}

    def failed(code: str, message: str) -> SandboxOutcome:
        return SandboxOutcome(ok=False, error=message, error_code=code, **facts)

    if timed_out:
        return failed("scorer_timeout", f"Python scorer timed out after {limits.timeout_s:g} s "
                                        "(its process group was killed)")
    if overflow:
        return failed("scorer_output_too_large", f"Python scorer output too large: more than "
                                                 f"{STDOUT_CAP // 1024} KiB on stdout or "
                                                 f"{STDERR_CAP // 1024} KiB on stderr")
    if isinstance(header, dict) and "fatal" in header:
        return failed("scorer_sandbox_failed", f"Python scorer sandbox failed: {header['fatal']}")
    last = _json_line(lines[-1]) if len(lines) > 1 else None
    if isinstance(last, dict) and "result" in last:
        return SandboxOutcome(ok=True, value=last["result"], **facts)
    if isinstance(last, dict) and isinstance(last.get("bad_output"), str):
        return failed("scorer_bad_output", f"Python scorer: {last['bad_output']}")
    if isinstance(last, dict) and isinstance(last.get("error"), str):
        message = last["error"]
        if message.startswith("MemoryError"):
            message += f"; the memory limit is {limits.memory_mb} MiB"
        return failed("scorer_exception", f"Python scorer raised {message}")
    return failed("scorer_crashed", _crash_message(returncode, stderr, limits))


def _crash_message(returncode: int, stderr: str, limits: SandboxLimits) -> str:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        hint = {"SIGXCPU": "CPU time limit exceeded", "SIGKILL": f"killed (memory limit {limits.memory_mb} MiB?)",
                "SIGSEGV": "crashed (stack overflow?)"}.get(name, "killed")
        return f"Python scorer {hint} (signal {name})"
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
    detail = f": {last[:500]}" if last else ""
    return f"Python scorer exited with code {returncode} without a result{detail}"


def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


_probe_lock = threading.Lock()
_probe: dict[str, Any] | None = None


def sandbox_probe() -> dict[str, Any]:
    """What the sandbox can enforce on this host (cached): network_isolated, privileges_dropped, error."""
    global _probe
    with _probe_lock:
        if _probe is None:
            try:
                done = subprocess.run(_argv("probe", SandboxLimits()), stdin=subprocess.DEVNULL,
                                      capture_output=True, env={}, cwd="/", start_new_session=True, timeout=30)
                header = _json_line(done.stdout.decode("utf-8", "replace").strip().partition("\n")[0])
                header = header if isinstance(header, dict) else {}
                _probe = {"network_isolated": False, "privileges_dropped": False,
                          "error": header.get("fatal", "" if "sandbox" in header
                                              else done.stderr.decode("utf-8", "replace")[-500:]),
                          **{k: v for k, v in header.get("sandbox", {}).items() if k != "uid"}}
            except (OSError, subprocess.SubprocessError) as exc:
                _probe = {"network_isolated": False, "privileges_dropped": False, "error": str(exc)}
        return dict(_probe)


def network_isolation_available() -> bool:
    """False means snippets can reach the network: show "network isolation unavailable" to the admin."""
    return bool(sandbox_probe()["network_isolated"])
