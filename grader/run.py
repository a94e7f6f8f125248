"""Run lesson specs with pytest in a child process and read back one outcome per spec.

Outcomes come through :mod:`grader.pytest_plugin`, written to a file outside the tree under test, never by
parsing pytest's console output.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .lessons import Lesson, spec_key

_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


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


def read_results(path: Path) -> RunResult:
    """Fold the plugin's JSON lines into one outcome per spec: the worst phase and parametrization wins."""
    run = RunResult()
    if not path.exists():
        return run
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
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


def child_env(threads: int | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a spec run: no bytecode or caches written into the tree; optional thread cap."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if threads is not None:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[name] = str(threads)
    env.update(extra or {})
    return env


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else (output or "")


def run_specs(
    tree: Path,
    targets: Iterable[str],
    *,
    spec_timeout: float = 120.0,
    total_timeout: float = 1800.0,
    threads: int | None = None,
    extra_args: Iterable[str] = (),
) -> RunResult:
    """Run pytest over ``targets`` (paths relative to ``tree``) and return the outcome of every spec."""
    with tempfile.TemporaryDirectory(prefix="llmfs-results-") as scratch:
        results_path = Path(scratch) / "results.jsonl"
        command = [
            sys.executable, "-m", "pytest", *targets,
            "-p", "grader.pytest_plugin", "--llmfs-results", str(results_path),
            "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts=", "--rootdir", str(tree),
            f"--timeout={spec_timeout:g}", *extra_args,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, cwd=tree, env=child_env(threads), capture_output=True, text=True,
                timeout=total_timeout, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            run = read_results(results_path)
            run.returncode, run.output = done.returncode, (done.stdout + done.stderr)[-20000:]
        except subprocess.TimeoutExpired as exc:
            run = read_results(results_path)
            run.timed_out, run.returncode = True, -1
            run.output = _text(exc.stdout)[-20000:]
    return run
