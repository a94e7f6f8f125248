"""Run lesson specs with pytest in a child process and read back one outcome per spec.

Outcomes come through :mod:`grader.sandbox.pytest_plugin`, written to a file outside the tree under test, never by
parsing pytest's console output.
"""
from __future__ import annotations

import atexit
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from .confine import UserPool
from ..lessons import COURSE_ROOT, Lesson, spec_key
from .pytest_plugin import NONCE_VARIABLE

_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
_PHASES = ("collect", "setup", "call", "teardown")


@dataclass(frozen=True)
class SpecResult:
    spec: str  # "test_bpe.py::test_merge"
    outcome: str  # passed | failed | error | skipped | missing
    message: str = ""
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass
class RunResult:
    """Raw outcomes of one pytest run, by lesson package ("l01") and spec key."""

    specs: dict[str, dict[str, SpecResult]] = field(default_factory=dict)
    collect_errors: dict[str, str] = field(default_factory=dict)  # "l01/test_bpe.py" -> message
    returncode: int = 0
    timed_out: bool = False
    output: str = ""

    def for_lesson(self, lesson: Lesson) -> list[SpecResult]:
        """One result per spec of the lesson's manifest, in stage order; a spec that never ran is "missing"."""
        found = self.specs.get(lesson.package, {})
        results = []
        for spec in lesson.specs:
            if spec in found:
                results.append(found[spec])
                continue
            module = spec.split("::", 1)[0]
            reason = self.collect_errors.get(f"{lesson.package}/{module}")
            if reason is None:
                reason = "did not run: the run timed out" if self.timed_out else "did not run (was it collected?)"
            results.append(SpecResult(spec, "missing", reason))
        return results


def _package_of(nodeid: str) -> str:
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[-2] if len(parts) >= 2 else ""


def _well_formed(record: object, nonce: str) -> bool:
    """A line the plugin wrote: the run's secret, and every field of the type it writes."""
    return (
        isinstance(record, dict) and record.get("nonce") == nonce and isinstance(record.get("nodeid"), str)
        and record.get("when") in _PHASES and record.get("outcome") in _RANK and isinstance(record.get("message"), str)
        and type(record.get("duration")) in (int, float) and math.isfinite(record["duration"])
    )  # fmt: skip


def read_results(path: Path, nonce: str) -> RunResult:
    """Fold the plugin's JSON lines into one outcome per spec: the worst phase and parametrization wins.

    Lines without the run's secret ``nonce``, or with any field missing or of another type, were not written
    by the plugin and are ignored.
    """
    run = RunResult()
    if not path.exists():
        return run
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue  # a line cut short by a crash, or nested beyond reason
        if not _well_formed(record, nonce):
            continue
        nodeid = record["nodeid"]
        package = _package_of(nodeid)
        if record["when"] == "collect":
            run.collect_errors[f"{package}/{nodeid.rsplit('/', 1)[-1]}"] = record["message"]
            continue
        key = spec_key(nodeid)
        lesson_specs = run.specs.setdefault(package, {})
        previous = lesson_specs.get(key)
        new = SpecResult(key, record["outcome"], record["message"], record["duration"])
        if previous is None:
            lesson_specs[key] = new
        else:
            worst = new if _RANK[new.outcome] > _RANK[previous.outcome] else previous
            lesson_specs[key] = SpecResult(key, worst.outcome, worst.message, previous.duration + new.duration)
    return run


def _readable(tree: Path) -> None:
    """Let the run's uid read the learner tree (and nothing makes it writable)."""
    for folder, _, files in os.walk(tree):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)


@dataclass(frozen=True)
class Sandbox:
    """Limits for a child that runs untrusted code (grading), and as root its confinement (:mod:`grader.sandbox.confine`):
    ``users``, the pool each run takes a uid of its own from; ``hidden``, folders no run may see."""

    cpu_seconds: int = 600
    memory_bytes: int = 4 << 30  # per process (address space), and the run's cgroup in all where there is one
    processes: int = 512
    file_bytes: int = 64 << 20
    tmp_bytes: int = 256 << 20  # each of the run's private /tmp, /var/tmp and /dev/shm
    users: UserPool | None = None
    hidden: tuple[str, ...] = ()

    def limits(self) -> dict[str, int]:
        return {"cpu": self.cpu_seconds, "memory": self.memory_bytes, "nproc": self.processes, "fsize": self.file_bytes}


def child_env(scratch: Path, threads: int | None, nonce: str) -> dict[str, str]:
    """The environment of a spec run: no caches written into the tree, scratch space for HOME and TMPDIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH", NONCE_VARIABLE))}
    env.update(
        # Only the plugins the course relies on, whatever else is installed on the machine.
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1", HOME=str(scratch), TMPDIR=str(scratch), MPLCONFIGDIR=str(scratch / "mpl"),
        MPLBACKEND="Agg", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **{NONCE_VARIABLE: nonce},
    )  # fmt: skip
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


class Zygote:
    """One warm zygote process (see grader/zygote.py); runs one job at a time, so each thread takes its own."""

    def __init__(self) -> None:
        # This grader's own copy (a learner's release has one too), whatever is installed.
        boot = f"import sys; sys.path.insert(0, {str(COURSE_ROOT)!r}); from grader.sandbox.zygote import serve; serve()"
        self.process = subprocess.Popen(
            [sys.executable, "-c", boot], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the spec runner (grader.sandbox.zygote) failed to start: run `llmfs doctor`")

    def run(self, job: dict) -> dict:
        """Run one job; a zygote killed meanwhile (e.g. by the code under test) answers as a crashed run."""
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        if not answer:
            self.process.kill()
            return {"returncode": -9, "timed_out": False, "duration": 0.0, "lost": True}
        return json.loads(answer)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)


_idle: list[Zygote] = []  # warm zygotes not running a job; any thread may take one
_all: list[Zygote] = []
_lock = threading.Lock()


@contextmanager
def _zygote() -> Iterator[Zygote]:
    """A warm zygote for one job: an idle one if there is one, else a new one; returned to the pool after."""
    with _lock:
        while _idle and _idle[-1].process.poll() is not None:
            _idle.pop()  # died: drop it
        zygote = _idle.pop() if _idle else None
    if zygote is None:
        zygote = Zygote()
        with _lock:
            _all.append(zygote)
    try:
        yield zygote
    finally:
        with _lock:
            _idle.append(zygote)


@atexit.register
def _close_zygotes() -> None:
    for zygote in _all:
        zygote.close()


def run_specs(
    tree: Path,
    targets: Iterable[str],
    *,
    spec_timeout: float = 120.0,
    total_timeout: float = 1800.0,
    threads: int | None = None,
    sandbox: Sandbox | None = None,
    exitfirst: bool = False,
    learner_tree: Path | None = None,
    hide: Iterable[Path] = (),
) -> RunResult:
    """Run pytest over ``targets`` (paths relative to ``tree``) and return the outcome of every spec.

    exitfirst: stop at the first failing spec (the rest are then "missing"), e.g. to learn that a mutant is caught.
    learner_tree: grading: ``tree`` holds proxies of the learner's modules, and the learner's code runs in a
        sandboxed child importing from this tree (see :mod:`grader.sandbox.remote`); pytest and the verdict stay in a
        process the learner's code never runs in. ``hide``: folders the child must not see (the checkout).
    """
    nonce = secrets.token_hex(16)
    if sandbox is not None and learner_tree is None:
        raise ValueError("a sandboxed run needs learner_tree: hostile code never runs in the process that runs the specs")
    users = sandbox.users if sandbox is not None else None
    with tempfile.TemporaryDirectory(prefix="llmfs-run-") as private, users.lease() if users else nullcontext() as user:
        private = Path(private)  # the results and log: never visible to the child's user
        scratch = private / "scratch"
        scratch.mkdir()
        args = [
            *targets, "-p", "pytest_timeout", "-p", "_hypothesis_pytestplugin", "-p", "grader.sandbox.pytest_plugin",
            "-p", "no:cacheprovider", "-q", "--no-header",
            "-o", "addopts=", "--rootdir", str(tree), f"--timeout={spec_timeout * (2 if learner_tree else 1) + (30 if learner_tree else 0):g}", *(["-x"] if exitfirst else []),
        ]  # fmt: skip
        # What no run may see; the grader's temporary folder holds every run's files, the child's own bound back.
        hidden = [str(COURSE_ROOT), *map(str, hide), *(sandbox.hidden if sandbox else ()), tempfile.gettempdir()]
        job = {
            "cwd": str(tree), "args": args, "env": child_env(scratch, threads, nonce),
            "results": str(private / "results.jsonl"), "log": str(private / "output.log"),
            "timeout": total_timeout, "threads": threads, "limits": sandbox.limits() if sandbox else None,
        }  # fmt: skip
        if user is not None:
            os.chmod(private, 0o711)
        if learner_tree is not None:
            home = scratch / "home"
            home.mkdir()
            if user is not None:
                os.chown(home, user, user)
                os.chmod(scratch, 0o711)
                _readable(learner_tree)
            job["sandbox"] = {
                "tree": str(learner_tree), "env": child_env(home, threads, ""), "user": user,
                "hide": hidden, "spec_timeout": spec_timeout, "tmp_bytes": sandbox.tmp_bytes if sandbox else None,
                "links": {str(tree / "data"): os.path.realpath(tree / "data")},
                "expose": [str(learner_tree), os.path.realpath(learner_tree / "data")], "writable": [str(scratch)],
                "limits": sandbox.limits() if sandbox else {},
            }  # fmt: skip
        with _zygote() as zygote:
            answer = zygote.run(job)
        run = read_results(private / "results.jsonl", nonce)
        run.returncode, run.timed_out = answer["returncode"], answer["timed_out"]
        log = private / "output.log"
        run.output = log.read_text(encoding="utf-8", errors="replace")[-20000:] if log.exists() else ""
        if answer.get("lost"):
            run.output += "\nthe spec runner was killed during this run"
    return run
