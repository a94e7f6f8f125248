"""Grade many submissions: each lesson in isolation and cumulatively, in parallel, each run sandboxed.

For every submission and lesson there are two runs of the pristine specs over an overlay:

- **isolated**: the learner's modules for that lesson only, every other lesson from the reference, so a bug in
  L03 does not cost points in L07;
- **cumulative**: the learner's modules for every lesson (their own chain).

The manifest's ``counts`` says which one scores. Each run is a separate child (forked from a warm zygote)
with a per-spec timeout, a run timeout and resource limits, running as ``nobody`` when the grader is root,
and reporting through :mod:`grader.pytest_plugin`; the specs a run did not report count as failed.

Two runs are skipped because their outcome is known without running: a lesson whose modules are the
untouched stubs fails every spec (the self-check proves it), and a lesson whose dependencies are byte-identical
to the reference (or that has none) has the same cumulative run as its isolated one.
"""
from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .intake import Submission, load_submission
from .lessons import COURSE_ROOT, Lesson, load_lessons
from .overlay import build_learner_tree, build_overlay
from .run import RunResult, Sandbox, SpecResult, run_specs

MODES = ("isolated", "cumulative")


@dataclass(frozen=True)
class Settings:
    spec_timeout: float = 60.0  # seconds per spec
    run_timeout: float = 900.0  # seconds per lesson run, collection included
    jobs: int = os.cpu_count() or 1
    sandbox: Sandbox = Sandbox()


def default_sandbox() -> Sandbox:
    """Resource limits, and as root, the unprivileged user ``nobody`` for the learner's code."""
    if os.geteuid() != 0:
        return Sandbox()
    try:
        return Sandbox(user=pwd.getpwnam("nobody").pw_uid)
    except KeyError:
        return Sandbox()


def dependencies(lesson: Lesson, by_id: dict[str, Lesson]) -> list[Lesson]:
    """Every lesson this one builds on, directly or through another."""
    seen: dict[str, Lesson] = {}
    stack = list(lesson.depends)
    while stack:
        name = stack.pop()
        if name not in seen and name in by_id:
            seen[name] = by_id[name]
            stack.extend(by_id[name].depends)
    return sorted(seen.values(), key=lambda item: item.id)


class Course:
    """The pristine course a submission is graded against: specs, manifests, stubs and the reference."""

    def __init__(self, root: Path = COURSE_ROOT) -> None:
        self.root = root
        self.lessons = load_lessons(root)
        self.by_id = {lesson.id: lesson for lesson in self.lessons}
        self.by_id_package = {lesson.package: lesson for lesson in self.lessons}

    def file(self, tree: str, package: str, module: str) -> bytes | None:
        path = self.root / tree / package / module
        return path.read_bytes() if path.is_file() else None

    def untouched(self, submission: Submission, lesson: Lesson) -> bool:
        """The learner has not changed (or has not sent) any module of the lesson."""
        return all(
            submission.modules.get((lesson.package, m), self.file("exercises", lesson.package, m)) == self.file("exercises", lesson.package, m)
            for m in lesson.modules
        )

    def same_as_reference(self, submission: Submission, lesson: Lesson) -> bool:
        return all(submission.modules.get((lesson.package, m)) == self.file("solutions", lesson.package, m) for m in lesson.modules)


def _write_modules(folder: Path, submission: Submission, packages: Iterable[str]) -> dict[str, Path]:
    """Lay the learner's modules out as ``folder/lNN/<module>`` (the overlay's sources)."""
    sources = {}
    for (package, module), data in submission.modules.items():
        if package in packages:
            (folder / package).mkdir(parents=True, exist_ok=True)
            (folder / package / module).write_bytes(data)
            sources[package] = folder / package
    return sources


def _run_lesson(course: Course, submission: Submission, lesson: Lesson, mode: str, settings: Settings) -> RunResult:
    """One run of a lesson's specs for ``mode``: the specs in a trusted process, the learner's code sandboxed.

    The trusted overlay holds the pristine specs, proxies for the learner's packages and, in isolated mode,
    the reference for the other lessons. The child's tree holds the learner's modules and, in isolated mode,
    the reference of only the lessons this one builds on; never the reference of the lesson being graded.
    """
    with tempfile.TemporaryDirectory(prefix="llmfs-grade-") as scratch:
        scratch = Path(scratch)
        os.chmod(scratch, 0o711)  # the child passes through to its own tree and data; it cannot list or read the rest
        _write_modules(scratch / "learner", submission, {item.package for item in course.lessons})
        stubs = {item.package: course.root / "exercises" / item.package for item in course.lessons}
        reference = {item.package: course.root / "solutions" / item.package for item in course.lessons}
        if mode == "isolated":  # the learner's lesson (or its stub) on top of the reference for every other lesson
            graded = [lesson.package]
            trusted_sources = {p: f for p, f in reference.items() if p != lesson.package}
            child_sources = {dep.package: reference[dep.package] for dep in dependencies(lesson, course.by_id)}
        else:  # the learner's own chain; a module they did not send stays the stub
            graded = [item.package for item in course.lessons]
            trusted_sources, child_sources = {}, {}
        for package in graded:
            child_sources[package] = _complete(scratch / "learner" / package, stubs[package], course.by_id_package[package])
        data = scratch / "data"
        if (course.root / "data").is_dir():
            shutil.copytree(course.root / "data", data, symlinks=False)
        else:
            data.mkdir()
        tree = build_overlay(scratch / "tree", sources=trusted_sources, course_root=course.root, lessons=course.lessons, proxies=graded)
        (tree / "data").unlink(missing_ok=True)
        (tree / "data").symlink_to(data, target_is_directory=True)  # paths a spec hands the learner's code resolve there too
        os.chmod(tree, 0o711)
        os.chmod(tree / "exercises", 0o700)
        learner_tree = build_learner_tree(scratch / "child", sources=child_sources, lessons=course.lessons, data=data, course_root=course.root)
        return run_specs(
            tree, [f"exercises/{lesson.package}"], spec_timeout=settings.spec_timeout, total_timeout=settings.run_timeout,
            threads=1, sandbox=settings.sandbox, learner_tree=learner_tree, hide=[course.root],
        )  # fmt: skip


def _complete(folder: Path, stubs: Path, lesson: Lesson) -> Path:
    """The learner's folder for a lesson, with the stub for every module they did not send."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in lesson.modules:
        if not (folder / module).exists() and (stubs / module).is_file():
            shutil.copyfile(stubs / module, folder / module)
    return folder


def _not_started(lesson: Lesson) -> list[SpecResult]:
    return [SpecResult(spec, "failed", f"not implemented: {lesson.id} is still the stub") for spec in lesson.specs]


def _spec_rows(lesson: Lesson, results: list[SpecResult]) -> list[dict]:
    rows = []
    for result in results:
        stage = lesson.stage_of(result.spec)
        rows.append(
            {
                "spec": result.spec, "stage": stage.name, "stage_title": stage.title, "status": result.outcome,
                "message": result.message, "duration": round(result.duration, 4),
                "points": lesson.spec_points(result.spec) if result.passed else 0.0,
                "max_points": lesson.spec_points(result.spec), "hint": stage.hints[0] if stage.hints else "",
            }
        )  # fmt: skip
    return rows


def _summary(lesson: Lesson, results: list[SpecResult]) -> dict:
    return {
        "score": round(sum(lesson.spec_points(r.spec) for r in results if r.passed), 6),
        "passed": sum(r.passed for r in results),
        "total": len(results),
    }


def _run_errors(lesson: Lesson, run: RunResult | None) -> list[str]:
    if run is None:
        return []
    errors = [f"{module}: {message}" for module, message in run.collect_errors.items()]
    if run.timed_out:
        errors.append(f"{lesson.id}: the run was stopped after the time limit; specs that did not finish count as failed")
    elif run.returncode not in (0, 1) and not errors:
        last = next((line for line in reversed(run.output.splitlines()) if line.strip()), "no output")
        errors.append(f"{lesson.id}: the test process ended abnormally (exit code {run.returncode}): {last[:300]}")
    return errors


def grade(
    paths: list[Path],
    *,
    course: Course | None = None,
    settings: Settings | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Grade every submission; returns one result dict per submission (see ``grader/report.py``)."""
    course = course or Course()
    settings = settings or Settings(sandbox=default_sandbox())
    say = on_progress or (lambda _: None)
    start = time.monotonic()
    submissions = [load_submission(path, course.lessons) for path in paths]

    # Plan: which (submission, lesson, mode) runs are needed; the rest are known.
    plan: dict[tuple[int, str, str], Callable[[], RunResult]] = {}
    for index, submission in enumerate(submissions):
        for lesson in course.lessons:
            if course.untouched(submission, lesson):
                continue
            plan[(index, lesson.id, "isolated")] = lambda s=submission, l=lesson: _run_lesson(course, s, l, "isolated", settings)
            deps = dependencies(lesson, course.by_id)
            if not all(course.same_as_reference(submission, dep) for dep in deps):
                plan[(index, lesson.id, "cumulative")] = lambda s=submission, l=lesson: _run_lesson(course, s, l, "cumulative", settings)

    runs: dict[tuple[int, str, str], RunResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        futures = {key: pool.submit(task) for key, task in plan.items()}
        for key, future in futures.items():
            runs[key] = future.result()
            say(f"{submissions[key[0]].learner} {key[1]} {key[2]}")

    graded = []
    for index, submission in enumerate(submissions):
        lessons = []
        for lesson in course.lessons:
            results, errors = {}, []
            for mode in MODES:
                run = runs.get((index, lesson.id, mode)) or runs.get((index, lesson.id, "isolated"))
                results[mode] = run.for_lesson(lesson) if run else _not_started(lesson)
                errors += [e for e in _run_errors(lesson, run) if e not in errors]
            counted = results[lesson.counts]
            summary = _summary(lesson, counted)
            lessons.append(
                {
                    "lesson": lesson.id, "title": lesson.title, "counts": lesson.counts,
                    "score": summary["score"], "max_score": lesson.points, "passed": summary["passed"], "total": summary["total"],
                    "isolated": _summary(lesson, results["isolated"]), "cumulative": _summary(lesson, results["cumulative"]),
                    "errors": errors, "specs": _spec_rows(lesson, counted),
                }
            )  # fmt: skip
        graded.append(
            {
                "schema": 1, "learner": submission.learner, "source": str(submission.source),
                "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "course_version": __version__,
                "errors": submission.errors, "score": round(sum(item["score"] for item in lessons), 6),
                "max_score": sum(lesson.points for lesson in course.lessons), "duration": round(time.monotonic() - start, 2),
                "lessons": lessons,
            }
        )  # fmt: skip
    return graded


def submissions_in(folder: Path) -> list[Path]:
    """Every submission in a folder: sub-folders (plain or git) and ``.zip`` files, by name."""
    return sorted(p for p in Path(folder).iterdir() if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".zip"))


def write_results(graded: list[dict], out: Path) -> list[Path]:
    """All report formats into ``out``, written into a fresh folder first and then moved into place."""
    from .report import write_reports

    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".llmfs-results-", dir=out))
    try:
        written = write_reports(graded, staging)
        final = []
        for path in written:
            target = out / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            final.append(target)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
