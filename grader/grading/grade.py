"""Grade many submissions: each lesson in isolation (and cumulatively where asked), in parallel, each run sandboxed.

For every submission and lesson there are up to two runs of the pristine specs over an overlay:

- **isolated**: the learner's modules for that lesson only, every other lesson from the reference, so a bug in
  L03 does not cost points in L07;
- **cumulative**: the learner's modules for every lesson (their own chain).

The manifest's ``counts`` says which one scores. The cumulative run is made where it counts, or for every lesson
with ``Settings.cumulative`` (``llmfs grade --cumulative``); elsewhere the report has no cumulative figures. Each run is a separate child (forked from a warm zygote)
with a per-spec timeout, a run timeout and resource limits, confined as :mod:`grader.sandbox.confine` describes (as
root: a uid of its own, a private view of the filesystem that hides the course checkouts and every submission,
limits per run, every process killed at its end), and reporting through :mod:`grader.sandbox.pytest_plugin`; the specs
a run did not report count as failed.

**Time.** Each submission has a budget: each of its runs is allowed ``max(budget_floor, budget_factor x the
reference's own time for that lesson)``, at most ``run_timeout``, and may also use what the submission's finished
runs left unused (the allowances of runs not yet started stay reserved, so one slow lesson never starves
another). A run that reaches its limit is stopped and its lesson's row says so; a run that finds nothing left is
not started. The worst case for one submission is therefore the sum of its runs' allowances, at most
``k x Σ over the lessons it touches of min(run_timeout, max(budget_floor, budget_factor x reference time))``
(``k`` runs per lesson: 1, or 2 where the cumulative run is made too), plus the grader's own few tenths of a
second around each run; one that sleeps just under the per-spec timeout in every spec costs exactly that. The
reference's time is measured only when the floor is below ``run_timeout``, where it matters, and is kept between
calls (:class:`ReferenceTimes`): one more run per lesson touched the first time, unless some submission has that
lesson byte-identical to the reference.

**Failures.** Anything that goes wrong while grading one submission (reading it, a run, its results) becomes
an error on that submission's row; every other submission is still graded and reported.

Runs are skipped where their outcome is known without running: a lesson whose modules are the untouched stubs
fails every spec (the self-check proves it); a lesson whose dependencies are byte-identical to the reference (or
that has none) has the same cumulative run as its isolated one; and where the reference is run to set the time
budget, a lesson byte-identical to the reference gets that run as its isolated one.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .. import __version__
from ..sandbox.confine import RUN_USERS, editable_checkouts
from ..learner.output import write_atomic
from .intake import Submission, learner_name, load_submission
from ..lessons import COURSE_ROOT, Lesson, dependencies, load_lessons
from ..sandbox.overlay import build_learner_tree, build_overlay
from ..sandbox.run import RunResult, Sandbox, SpecResult, run_specs

MODES = ("isolated", "cumulative")


@dataclass(frozen=True)
class Settings:
    spec_timeout: float = 60.0  # seconds per spec
    run_timeout: float = 900.0  # seconds per lesson run, collection included
    budget_factor: float = 10.0  # a run is allowed this many times the reference's time for its lesson,
    budget_floor: float = 120.0  # or this many seconds if more (at most run_timeout): see the module's docstring
    jobs: int = os.cpu_count() or 1
    sandbox: Sandbox = Sandbox()
    cumulative: bool = False  # also run every lesson on the learner's own chain (else only where it counts)


def default_sandbox() -> Sandbox:
    """Resource limits, and as root, confinement: each run takes an unprivileged uid of its own."""
    return Sandbox(users=RUN_USERS) if os.geteuid() == 0 else Sandbox()


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


@dataclass(frozen=True)
class _Run:
    """What became of one planned run: its result and the time it was allowed, or why there is none."""

    result: RunResult | None = None
    limit: float = 0.0
    short: bool = False  # allowed less than the run timeout: a limit that comes from the time budget
    problem: str = ""
    took: float = 0.0  # seconds

    @property
    def out_of_time(self) -> bool:
        return self.short and (self.result is None or self.result.timed_out)


class ReferenceTimes:
    """How long the reference's own isolated run of each lesson took, kept between ``grade()`` calls.

    An entry is keyed by a digest of everything that decides the time (the lesson's specs and data helpers, the
    reference of the lesson and of the lessons it builds on, the grader's sandbox, the Python and torch versions,
    the machine and the spec settings), so a change to any of them measures the reference again. Only a run in
    which every spec passed is kept. The file is ``$XDG_CACHE_HOME/llmfs/reference-times.json``.
    """

    def __init__(self, course: Course, settings: Settings) -> None:
        self.course, self.settings = course, settings
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        self.path = cache / "llmfs" / "reference-times.json"
        try:
            self.times = {k: float(v) for k, v in json.loads(self.path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, TypeError, AttributeError):
            self.times = {}

    @functools.cache  # noqa: B019 - one ReferenceTimes per grade() call: the files are read once per lesson
    def _key(self, lesson: Lesson) -> str:
        digest = hashlib.sha256()
        root = self.course.root
        lessons = [lesson, *dependencies(lesson, self.course.by_id)]
        files = [*(root / "exercises" / lesson.package).glob("*.py"), *(root / "exercises").glob("*.py")]
        files += [path for item in lessons for path in (root / "solutions" / item.package).glob("*.py")]
        files += Path(__file__).parent.parent.joinpath("sandbox").glob("*.py")
        for path in sorted(files):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        machine = [sys.version, torch_version(), platform.node(), os.cpu_count(), self.settings.spec_timeout, self.settings.sandbox.users is not None]
        digest.update(repr(machine).encode())
        return f"{lesson.id}:{digest.hexdigest()}"

    def get(self, lesson: Lesson) -> float | None:
        return self.times.get(self._key(lesson))

    def put(self, lesson: Lesson, took: float) -> None:
        self.times[self._key(lesson)] = round(took, 3)
        try:
            write_atomic(self.path, json.dumps(self.times, indent=1, sort_keys=True))
        except OSError:
            pass  # measured again next time


def torch_version() -> str:
    from importlib.metadata import version

    return version("torch")


def _reference_run(course: Course, lesson: Lesson, settings: Settings) -> _Run:
    """The reference's own isolated run of ``lesson``, like the learners': how long it takes is the time budget's
    yardstick, and it is the isolated run of every submission whose lesson is byte-identical to the reference."""
    reference = Submission("reference", course.root / "solutions")
    for module in lesson.modules:
        data = course.file("solutions", lesson.package, module)
        if data is not None:
            reference.modules[(lesson.package, module)] = data
    start = time.monotonic()
    result = _run_lesson(course, reference, lesson, "isolated", settings)
    return _Run(result, settings.run_timeout, took=time.monotonic() - start)


class Budget:
    """One submission's time: each run may take its allowance and whatever the finished runs left unused.

    The allowances of the runs not yet started stay reserved, so no run is starved by a slow sibling, and the
    runs take at most ``total`` seconds in all (plus the grader's own work around each).
    """

    def __init__(self, allowances: dict[tuple[str, str], float], cap: float) -> None:
        self.total = sum(allowances.values())
        self._waiting = dict(allowances)
        self._cap = cap
        self._used = 0.0  # taken by finished runs, and held by running ones
        self._lock = threading.Lock()

    def start(self, run: tuple[str, str]) -> float:
        """The time limit of ``run`` (lesson id, mode), starting now; 0 when nothing is left."""
        with self._lock:
            del self._waiting[run]
            limit = max(0.0, min(self._cap, self.total - self._used - sum(self._waiting.values())))
            self._used += limit
            return limit

    def finish(self, limit: float, took: float) -> None:
        with self._lock:
            self._used += took - limit


def _run_within_budget(course: Course, submission: Submission, lesson: Lesson, mode: str, settings: Settings, budget: Callable[[], Budget]) -> _Run:
    """One run, limited to what the submission's time budget leaves it; not started when nothing is left."""
    spending = budget()
    limit = spending.start((lesson.id, mode))
    short = limit < settings.run_timeout
    if limit <= 0:
        return _Run(short=short, problem=f"not started: the submission's time budget ({spending.total:.0f} s) was spent")
    start = time.monotonic()
    try:
        result = _run_lesson(course, submission, lesson, mode, replace(settings, run_timeout=limit))
    finally:
        took = time.monotonic() - start
        spending.finish(limit, took)
    return _Run(result, limit, short, took=took)


def _failure(doing: str, error: Exception) -> str:
    return f"grading failed while {doing}: {type(error).__name__}: {error}"


def _not_started(lesson: Lesson) -> list[SpecResult]:
    return [SpecResult(spec, "failed", f"not implemented: {lesson.id} is still the stub") for spec in lesson.specs]


def _results(lesson: Lesson, run: _Run | None) -> list[SpecResult]:
    if run is None:
        return _not_started(lesson)
    if run.result is None:
        return [SpecResult(spec, "missing", run.problem) for spec in lesson.specs]
    return run.result.for_lesson(lesson)


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


def _run_errors(lesson: Lesson, run: _Run | None) -> list[str]:
    if run is None:
        return []
    if run.result is None:
        return [f"{lesson.id}: {run.problem}"]
    result = run.result
    errors = [f"{module}: {message}" for module, message in result.collect_errors.items()]
    if run.out_of_time:
        errors.append(
            f"{lesson.id}: the run was stopped at its time limit, {run.limit:.1f} s, its share of the submission's time "
            "budget; specs that did not finish count as failed"
        )
    elif result.timed_out:
        errors.append(f"{lesson.id}: the run was stopped after the time limit; specs that did not finish count as failed")
    elif result.returncode not in (0, 1) and not errors:
        last = next((line for line in reversed(result.output.splitlines()) if line.strip()), "no output")
        errors.append(f"{lesson.id}: the test process ended abnormally (exit code {result.returncode}): {last[:300]}")
    return errors


def _wants_cumulative(lesson: Lesson, settings: Settings) -> bool:
    return settings.cumulative or lesson.counts == "cumulative"


def _plan(course: Course, submission: Submission, settings: Settings) -> list[tuple[Lesson, str]]:
    """The runs a submission needs: the rest are known without running (see the module's docstring)."""
    plan = []
    for lesson in course.lessons:
        if course.untouched(submission, lesson):
            continue
        plan.append((lesson, "isolated"))
        own_chain = not all(course.same_as_reference(submission, dep) for dep in dependencies(lesson, course.by_id))
        if own_chain and _wants_cumulative(lesson, settings):
            plan.append((lesson, "cumulative"))
    return plan


def _load(path: Path, course: Course) -> Submission:
    try:
        return load_submission(path, course.lessons)
    except Exception as exc:  # noqa: BLE001 - one submission's problem, not the grading run's
        return Submission(learner_name(Path(path)), Path(path), errors=[_failure("reading it", exc)])


def _hidden_folders(course: Course, paths: Iterable[Path]) -> tuple[str, ...]:
    """What no run may see: the course checkouts (their reference) and the folders holding the submissions."""
    submissions = {str(Path(path).resolve().parent) for path in paths}
    return (str(COURSE_ROOT), str(course.root), *editable_checkouts(), *sorted(submissions))


def _row(course: Course, submission: Submission, runs: dict[tuple[str, str], _Run], started: float, settings: Settings) -> dict:
    """The result dict of one submission; ``cumulative`` is None for a lesson whose cumulative run was not asked for."""
    lessons = []
    for lesson in course.lessons:
        results, errors = {}, []
        for mode in MODES:
            if mode == "cumulative" and not _wants_cumulative(lesson, settings):
                continue
            run = runs.get((lesson.id, mode)) or runs.get((lesson.id, "isolated"))  # not made: the same as isolated
            results[mode] = _results(lesson, run)
            errors += [e for e in _run_errors(lesson, run) if e not in errors]
        counted = results[lesson.counts]
        summary = _summary(lesson, counted)
        cumulative = _summary(lesson, results["cumulative"]) if "cumulative" in results else None
        lessons.append(
            {
                "lesson": lesson.id, "title": lesson.title, "counts": lesson.counts,
                "score": summary["score"], "max_score": lesson.points, "passed": summary["passed"], "total": summary["total"],
                "isolated": _summary(lesson, results["isolated"]), "cumulative": cumulative,
                "errors": errors, "specs": _spec_rows(lesson, counted),
            }
        )  # fmt: skip
    errors = list(submission.errors)
    out_of_time = [f"{lesson_id} {mode}" for (lesson_id, mode), run in runs.items() if run.out_of_time]
    if out_of_time:
        errors.append(f"time budget spent: {', '.join(out_of_time)} stopped at or not started for lack of time")
    return {
        "schema": 1, "learner": submission.learner, "source": str(submission.source),
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "course_version": __version__,
        "errors": errors, "score": round(sum(item["score"] for item in lessons), 6),
        "max_score": sum(lesson.points for lesson in course.lessons), "duration": round(time.monotonic() - started, 2),
        "lessons": lessons,
    }  # fmt: skip


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
    sandbox = replace(settings.sandbox, hidden=(*settings.sandbox.hidden, *_hidden_folders(course, paths)))
    settings = replace(settings, sandbox=sandbox)
    say = on_progress or (lambda _: None)
    start = time.monotonic()
    submissions = [_load(path, course) for path in paths]
    timing = settings.budget_floor < settings.run_timeout  # else every allowance is the run timeout
    yardsticks = ReferenceTimes(course, settings) if timing else None
    known = {lesson.id: took for lesson in course.lessons if yardsticks and (took := yardsticks.get(lesson)) is not None}
    plans: list[list[tuple[Lesson, str]]] = []  # the runs to make, per submission
    as_reference: list[list[Lesson]] = []  # the lessons whose isolated run is the reference's own
    for submission in submissions:
        try:
            plan = _plan(course, submission, settings)
            same = [
                lesson for lesson, mode in plan
                if timing and lesson.id not in known and mode == "isolated" and course.same_as_reference(submission, lesson)
            ]  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            submission.errors.append(_failure("planning its runs", exc))
            plan, same = [], []
        plans.append([(lesson, mode) for lesson, mode in plan if not (mode == "isolated" and lesson in same)])
        as_reference.append(same)

    runs: dict[tuple[int, str, str], _Run] = {}
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        # Queued first, so that a worker waiting for one has it running or done already.
        touched = {lesson.id: lesson for plan in plans for lesson, _ in plan} | {lesson.id: lesson for same in as_reference for lesson in same}
        references = {key: pool.submit(_reference_run, course, lesson, settings) for key, lesson in touched.items() if timing and key not in known}
        budgets: dict[int, Budget] = {}
        budgets_lock = threading.Lock()

        def allowance(lesson: Lesson) -> float:
            if not timing:
                return settings.run_timeout
            took = known[lesson.id] if lesson.id in known else references[lesson.id].result().took
            return min(settings.run_timeout, max(settings.budget_floor, settings.budget_factor * took))

        def budget(index: int) -> Budget:
            with budgets_lock:
                if index not in budgets:
                    budgets[index] = Budget({(lesson.id, mode): allowance(lesson) for lesson, mode in plans[index]}, settings.run_timeout)
                return budgets[index]

        futures = {(index, lesson.id, "isolated"): references[lesson.id] for index, same in enumerate(as_reference) for lesson in same}
        futures |= {
            (index, lesson.id, mode): pool.submit(_run_within_budget, course, submissions[index], lesson, mode, settings, lambda i=index: budget(i))
            for index, plan in enumerate(plans)
            for lesson, mode in plan
        }  # fmt: skip
        for (index, lesson_id, mode), future in futures.items():
            try:
                runs[(index, lesson_id, mode)] = future.result()
            except Exception as exc:  # noqa: BLE001 - this run's submission gets the error, the others go on
                runs[(index, lesson_id, mode)] = _Run(problem=_failure(f"running {lesson_id} {mode}", exc))
            say(f"{submissions[index].learner} {lesson_id} {mode}")
        for lesson_id, future in references.items():
            if future.exception() is None and future.result().result is not None and future.result().result.returncode == 0:
                yardsticks.put(course.by_id[lesson_id], future.result().took)

    graded = []
    for index, submission in enumerate(submissions):
        own = {(lesson_id, mode): run for (owner, lesson_id, mode), run in runs.items() if owner == index}
        try:
            graded.append(_row(course, submission, own, start, settings))
        except Exception as exc:  # noqa: BLE001
            submission.errors.append(_failure("reading its results", exc))
            graded.append(_row(course, submission, {}, start, settings))
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
