"""A warm process that has imported PyTorch, NumPy and pytest once and forks one child per spec run.

Importing PyTorch (and ``transformers``) costs seconds; the self-check and the grader run hundreds of short
spec runs, so each one is a ``fork()`` of this process instead of a fresh interpreter. The zygote never runs a
tensor operation itself (forking after PyTorch's thread pools have started is unsafe), reads one JSON job per
line on stdin and answers one JSON line on stdout.

A job: ``{"cwd", "args", "env", "results", "log", "stash", "timeout", "threads", "limits": {"cpu", "memory",
"nproc", "fsize"} | null, "user": uid | null, "expose": [paths the user must reach, e.g. the course data]}``. The child starts a new session (so that everything it forks can be
killed with it), applies the resource limits, opens the results file and runs
``pytest.main(args + ["--llmfs-results-fd", fd])``. With ``user`` (grading as root), it drops to that
unprivileged user once pytest is configured and before any spec module (and so any learner code) is
imported: from then on it can write only to its scratch folder and the results file it already holds open.
If the Python installation sits behind a folder that user may not enter (``/root/.pyenv``), the child first
binds it into view in a private mount namespace.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import resource
import signal
import sys
import time

import pytest

# Imported once here so that every spec run starts warm.
PRELOAD = (
    "numpy", "numpy.testing", "torch", "torch.nn", "torch.nn.functional", "torch.testing", "torch.optim",
    "torch.utils.data", "pytest", "pytest_timeout", "hypothesis", "hypothesis.strategies", "regex", "tracemalloc",
    "tempfile", "zipfile", "csv", "grader.pytest_plugin", "tiktoken", "tiktoken.core", "tokenizers", "transformers",
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


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS, _MS_BIND, _MS_REC, _MS_PRIVATE, _MNT_DETACH = 0x00020000, 4096, 16384, 1 << 18, 2


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    if _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _blocker(path: str, user: int) -> str | None:
    """The outermost folder on the way to ``path`` that ``user`` may not pass through (e.g. /root, 0700)."""
    current = "/"
    for part in path.strip("/").split("/"):
        info = os.stat(current)
        if info.st_uid != user and not info.st_mode & 0o001:
            return current
        current = os.path.join(current, part)
    return None


def _expose(paths: list[str], user: int, stash_root: str) -> None:
    """Let ``user`` reach ``paths`` (the Python installation, the course) in a private mount namespace.

    A folder on the way that the user cannot pass (like /root on a machine whose Python lives in
    /root/.pyenv) is covered with an empty world-readable tmpfs into which just those paths are bound back.
    Nothing outside this child's namespace changes.
    """
    blocked: dict[str, list[str]] = {}
    for path in sorted(set(paths)):
        blocker = _blocker(path, user)
        if blocker is not None and os.path.exists(path):
            blocked.setdefault(blocker, []).append(path)
    if not blocked:
        return
    if _libc.unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    count = 0
    for blocker, inner in blocked.items():
        stashes = []
        for path in inner:
            count += 1
            stash = os.path.join(stash_root, f"stash-{count}")
            os.makedirs(stash)
            _mount(path, stash, None, _MS_BIND | _MS_REC)
            stashes.append((path, stash))
        _mount("tmpfs", blocker, "tmpfs", 0, "mode=0755,size=1m")
        for path, stash in stashes:
            os.makedirs(path, exist_ok=True)
            _mount(stash, path, None, _MS_BIND | _MS_REC)
            _libc.umount2(stash.encode(), _MNT_DETACH)


class _DropPrivileges:
    """A pytest plugin: become ``user`` once every plugin is configured and the session started, before collection."""

    def __init__(self, user: int) -> None:
        self.user = user

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        os.setgroups([])
        os.setgid(self.user)
        os.setuid(self.user)


def _private_temp(keep: list[str]) -> None:
    """Fresh tmpfs on /tmp, /var/tmp and /dev/shm in this (already private) mount namespace; ``keep`` stays reachable."""
    stashes = []
    for index, path in enumerate(p for p in keep if os.path.exists(p)):
        stash = f"/run/llmfs-keep-{os.getpid()}-{index}"
        os.makedirs(stash, exist_ok=True)
        _mount(path, stash, None, _MS_BIND | _MS_REC)
        stashes.append((path, stash))
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(folder):
            _mount("tmpfs", folder, "tmpfs", 0, "mode=1777,size=256m")
    for path, stash in stashes:
        os.makedirs(path, exist_ok=True)
        _mount(stash, path, None, _MS_BIND | _MS_REC)
        _libc.umount2(stash.encode(), _MNT_DETACH)


def _hide(paths: list[str]) -> None:
    """Cover each folder with an empty read-only tmpfs in this mount namespace (the course checkout)."""
    for path in paths:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", 1, "mode=0555,size=16k")  # MS_RDONLY


def _confine(sandbox: dict) -> None:
    """Runs in the learner's child (see :mod:`grader.remote`) before any of its code: the sandbox.

    Its own environment, scratch HOME and TMPDIR, and resource limits; as root, also a private mount namespace
    in which the course checkout is covered and /tmp, /var/tmp and /dev/shm are fresh, and then the run's
    own unprivileged uid. ``sys.path`` keeps only the Python installation.
    """
    import tempfile

    os.environ.clear()
    os.environ.update(sandbox["env"])
    tempfile.tempdir = None
    hidden = [os.path.realpath(p) for p in sandbox["hide"]]
    sys.path[:] = [p for p in sys.path if p and not any(os.path.realpath(p).startswith(h) for h in hidden)]
    user = sandbox.get("user")
    if user is not None:
        needed = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *sandbox["expose"]]
        if _libc.unshare(_CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
        keep = [os.path.realpath(p) for p in needed]
        _private_temp([p for p in keep if p.startswith(("/tmp/", "/var/tmp/", "/dev/shm/"))])
        for link, target in sandbox.get("links", {}).items():  # paths the specs hand over, e.g. tree/data/...
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(target, link)
        _hide([h for h in hidden if not any(k.startswith(h) for k in keep)])
        _expose(keep, int(user), f"/run/llmfs-stash-{os.getpid()}")
    _apply_limits(sandbox["limits"])
    if user is not None:
        os.setgroups([])
        os.setgid(int(user))
        os.setuid(int(user))
    os.chdir(sandbox["env"]["HOME"])


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

            control = remote.start_template(sandbox["tree"], lambda: _confine(sandbox))
            plugins.append(remote.GradingPlugin(remote.spawner(control, _kill_run(sandbox.get("user"))), sandbox))
        os.chdir(job["cwd"])
        sys.path[:0] = [job["cwd"]]
        import torch

        if job.get("threads"):
            torch.set_num_threads(int(job["threads"]))
        if job.get("user") is not None and sandbox is None:
            needed = [sys.prefix, sys.base_prefix, sys.exec_prefix, *(p for p in sys.path if p), job["cwd"], *job["expose"]]
            _expose([os.path.realpath(p) for p in needed], int(job["user"]), job["stash"])
            plugins.append(_DropPrivileges(int(job["user"])))
        code = int(pytest.main([*job["args"], f"--llmfs-results-fd={results}"], plugins=plugins))
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - report and leave: this is a throwaway child
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def kill_user(user: int) -> None:
    """Kill every process of ``user`` (a run's own uid): forks, sessions and daemons included."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(user)
            os.setuid(user)
            for _ in range(100):  # kill(-1) as the user reaches exactly the user's processes
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
                time.sleep(0.01)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _kill_run(user: int | None):
    """How the trusted side ends a learner's child: by its uid when it has one of its own, else its session."""

    def kill(pid: int) -> None:
        if user is not None:
            kill_user(int(user))
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    return kill


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
        if job.get("sandbox") and job["sandbox"].get("user") is not None:
            kill_user(int(job["sandbox"]["user"]))  # whatever the learner's code left running, detached or not
        out.write(json.dumps({"returncode": code, "timed_out": timed_out, "duration": time.monotonic() - start}) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
