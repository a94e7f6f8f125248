"""A warm process that has imported PyTorch, NumPy and pytest once and forks one child per spec run.

Importing PyTorch (and ``transformers``) costs seconds; the self-check and the grader run hundreds of short
spec runs, so each one is a ``fork()`` of this process instead of a fresh interpreter. The zygote never runs a
tensor operation itself (forking after PyTorch's thread pools have started is unsafe), reads one JSON job per
line on stdin and answers one JSON line on stdout.

A job: ``{"cwd", "args", "env", "results", "log", "timeout", "threads", "limits": {"cpu", "memory", "nproc",
"fsize"} | null, "sandbox": {...} | null}``. The child starts a new session, applies the resource
limits, opens the results file and runs ``pytest.main(args + ["--llmfs-results-fd", fd])``. With ``sandbox``
(grading), the learner's code runs only in children of a template forked before any spec is imported, each
confined by :func:`_confine` (see :mod:`grader.sandbox.remote`); ``sandbox`` holds ``tree``, ``env``, ``user``, ``hide``,
``expose``, ``writable``, ``links``, ``tmp_bytes``, ``limits`` and ``spec_timeout``. Without it (the self-check, a
learner's status) the specs run in the child itself, as the grader's user, on code that is not hostile. Each run gets a cgroup of its own where the host
allows (:mod:`grader.sandbox.confine`), and at its end every process of it is killed, whatever it forked and orphaned.
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

import pytest

from grader.sandbox import confine

# Imported once here so that every spec run starts warm.
PRELOAD = (
    "numpy", "numpy.testing", "torch", "torch.nn", "torch.nn.functional", "torch.testing", "torch.optim",
    "torch.utils.data", "pytest", "pytest_timeout", "hypothesis", "hypothesis.strategies", "regex", "tracemalloc",
    "tempfile", "zipfile", "csv", "grader.sandbox.pytest_plugin", "tiktoken", "tiktoken.core", "tokenizers", "transformers",
    "safetensors", "safetensors.torch",
)  # fmt: skip


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


def _confine(sandbox: dict, cgroup: confine.RunCgroup | None) -> None:
    """Runs in the learner's child (see :mod:`grader.sandbox.remote`) before any of its code: the sandbox.

    The run's cgroup, its own environment, scratch HOME and TMPDIR, and resource limits; as root, also its private
    view of the filesystem (the course checkout covered, /tmp, /var/tmp and /dev/shm fresh, no network) and then
    the run's own unprivileged uid (:mod:`grader.sandbox.confine`). ``sys.path`` keeps only the Python installation.
    """
    import tempfile

    if cgroup is not None:
        cgroup.join()
    os.environ.clear()
    os.environ.update(sandbox["env"])
    tempfile.tempdir = None
    needed = confine.forget_hidden_imports(sandbox["hide"])
    user = sandbox.get("user")
    if user is not None:
        confine.private_view(
            keep=[*needed, *sandbox["expose"]], writable=sandbox["writable"], hide=sandbox["hide"], user=int(user),
            tmp_bytes=int(sandbox["tmp_bytes"]), links=sandbox.get("links", {}),  # paths the specs hand over, e.g. tree/data/...
        )  # fmt: skip
    _apply_limits(sandbox["limits"])
    if user is not None:
        confine.become(int(user))
    os.chdir(sandbox["env"]["HOME"])


def _child(job: dict, cgroup: confine.RunCgroup | None) -> None:
    """Runs in the forked child; never returns."""
    code = 70
    try:
        if cgroup is not None and job.get("sandbox") is None:  # grading: only the learner's children join it
            cgroup.join()
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
        import tempfile

        tempfile.tempdir = None  # cached by this zygote before the run's TMPDIR was set: tmp_path goes in the run's scratch
        sys.dont_write_bytecode = True
        results = os.open(job["results"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if job.get("limits") and not job.get("sandbox"):
            _apply_limits(job["limits"])
        sandbox = job.get("sandbox")
        plugins = []
        if sandbox is not None:  # grading: the learner's code runs only in children of this template
            from . import remote

            control = remote.start_template(sandbox["tree"], lambda: _confine(sandbox, cgroup))
            plugins.append(remote.GradingPlugin(remote.spawner(control, _kill_run(sandbox.get("user"))), sandbox))
        os.chdir(job["cwd"])
        sys.path[:0] = [job["cwd"]]
        import torch

        if job.get("threads"):
            torch.set_num_threads(int(job["threads"]))
        code = int(pytest.main([*job["args"], f"--llmfs-results-fd={results}"], plugins=plugins))
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - report and leave: this is a throwaway child
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _kill_run(user: int | None):
    """How the trusted side ends a learner's child: by its uid when it has one of its own, else its session."""

    def kill(pid: int) -> None:
        if user is not None:
            confine.kill_user(int(user))
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    return kill


def _wait(pid: int, timeout: float) -> tuple[int, bool]:
    """Wait for the child, killing it at the deadline. Returns (exit code, timed out)."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    timed_out = False
    while True:
        reaped, status = os.waitpid(pid, os.WNOHANG)
        if reaped:
            return os.waitstatus_to_exitcode(status), timed_out
        if not timed_out and time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # not reaped yet, so the pid is still this child's
            timed_out = True
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C in the terminal ends it quietly; llmfs says what stopped
    _preload()
    # Keep the preloaded heap out of every collection: pytest collects garbage several times per session,
    # and walking PyTorch's objects each time would cost seconds per run (it also keeps pages shared).
    gc.freeze()
    confine.become_subreaper()  # whatever a run forks and orphans comes back here, to be killed with the run
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        start = time.monotonic()
        confined = job.get("sandbox") or job
        limits = confined.get("limits")
        cgroup = confine.RunCgroup(limits["memory"], limits["nproc"]) if limits else None
        pid = os.fork()
        if pid == 0:
            _child(job, cgroup)
        code, timed_out = _wait(pid, float(job["timeout"]))
        confine.kill_run(cgroup, confined.get("user"))  # whatever the run left running, detached or not
        out.write(json.dumps({"returncode": code, "timed_out": timed_out, "duration": time.monotonic() - start}) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
