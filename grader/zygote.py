"""A warm process that has imported PyTorch, NumPy and pytest once and forks one child per spec run.

Importing PyTorch (and ``transformers``) costs seconds; the self-check and the grader run hundreds of short
spec runs, so each one is a ``fork()`` of this process instead of a fresh interpreter. The zygote never runs a
tensor operation itself (forking after PyTorch's thread pools have started is unsafe), reads one JSON job per
line on stdin and answers one JSON line on stdout.

A job: ``{"cwd", "args", "env", "results", "timeout", "threads", "limits": {"cpu", "memory", "nproc",
"fsize"} | null, "user": uid | null}``. The child starts a new session (so that everything it forks can be
killed with it), applies the resource limits, opens the results file, drops to ``user`` if given, and runs
``pytest.main(args + ["--llmfs-results-fd", fd])``.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import signal
import sys
import time

PRELOAD = ("numpy", "torch", "pytest", "pytest_timeout", "hypothesis", "regex", "grader.pytest_plugin", "tiktoken", "transformers")


def _preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional oracle that fails to import is imported (and fails) in the spec
            pass
    try:  # the classes specs build from transformers are lazily imported: import them now, once
        from transformers import GPT2Config, GPT2LMHeadModel  # noqa: F401
    except Exception:  # noqa: BLE001
        pass


def _apply_limits(limits: dict) -> None:
    table = {
        "cpu": resource.RLIMIT_CPU,  # seconds of CPU time
        "memory": resource.RLIMIT_AS,  # bytes of address space
        "nproc": resource.RLIMIT_NPROC,  # processes and threads of the user
        "fsize": resource.RLIMIT_FSIZE,  # bytes per file written
    }
    for key, value in limits.items():
        if value is not None:
            resource.setrlimit(table[key], (int(value), int(value)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(job: dict) -> None:
    """Runs in the forked child; never returns."""
    code = 70
    try:
        os.setsid()
        log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        os.environ.clear()
        os.environ.update(job["env"])
        sys.dont_write_bytecode = True
        results = os.open(job["results"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if job.get("limits"):
            _apply_limits(job["limits"])
        if job.get("user") is not None:
            os.setgroups([])
            os.setgid(job["user"])
            os.setuid(job["user"])
        os.chdir(job["cwd"])
        sys.path[:0] = [job["cwd"]]
        import torch

        if job.get("threads"):
            torch.set_num_threads(int(job["threads"]))
        import pytest

        code = int(pytest.main([*job["args"], f"--llmfs-results-fd={results}"]))
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - report and leave: this is a throwaway child
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int, bool]:
    """Wait for the child; kill its whole session at the deadline. Returns (exit code, timed out)."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    timed_out = False
    # WNOWAIT: notice the exit without reaping, so the session id cannot be reused before we kill it
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            timed_out = True
            break
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    try:  # the child, if still running, and whatever it forked and left behind
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), timed_out


def serve() -> None:
    _preload()
    # Keep the preloaded heap out of every collection: pytest collects garbage several times per session,
    # and walking PyTorch's objects each time would cost seconds per run (it also keeps pages shared).
    gc.freeze()
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(job)
        code, timed_out = _wait(pid, float(job["timeout"]))
        out.write(json.dumps({"returncode": code, "timed_out": timed_out, "duration": time.monotonic() - start}) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
