"""The learner's view: where they stand in each lesson, the next red spec, and the hint ladders.

Progress state (last results, hints used, timestamps) lives in one JSON file, ``.llmfs/progress.json`` in
the course root, written atomically. This module owns that file: ``read_progress`` is its one reader (the
roster reads learners' files with it too). A missing file starts afresh; a corrupt one is kept as
``progress.json.corrupt``, with a one-line notice, and the learner starts afresh.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..lessons import COURSE_ROOT, Lesson, Stage
from ..sandbox.run import SpecResult, run_specs
from .output import remark, write_atomic

PROGRESS_FILE = Path(".llmfs") / "progress.json"  # in the course root


@dataclass(frozen=True)
class LessonProgress:
    lesson: Lesson
    results: list[SpecResult]  # one per manifest spec, stage order

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def points(self) -> float:
        return sum(self.lesson.spec_points(r.spec) for r in self.results if r.passed)

    @property
    def done(self) -> bool:
        return self.passed == self.total

    @property
    def first_red(self) -> SpecResult | None:
        return next((r for r in self.results if not r.passed), None)


def measure(lessons: list[Lesson], root: Path = COURSE_ROOT, *, spec_timeout: float = 60.0) -> list[LessonProgress]:
    """Run the learner's own specs (in ``root/exercises``), one run per lesson so that a crash in one lesson
    never hides the others, in parallel over the machine's cores."""
    if not lessons:
        return []

    def run(lesson: Lesson) -> LessonProgress:
        result = run_specs(root, [f"exercises/{lesson.package}"], spec_timeout=spec_timeout, total_timeout=600.0)
        return LessonProgress(lesson, result.for_lesson(lesson))

    workers = min(len(lessons), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        progress = list(pool.map(run, lessons))
    State(root).record(progress)
    return progress


def stage_report(item: LessonProgress) -> list[tuple[Stage, list[SpecResult]]]:
    """The lesson's results grouped by stage, in stage order."""
    by_spec = {result.spec: result for result in item.results}
    return [(stage, [by_spec[spec] for spec in stage.specs]) for stage in item.lesson.stages]


def next_step(progress: list[LessonProgress]) -> tuple[LessonProgress, SpecResult, Stage] | None:
    """The first red spec of the earliest unfinished lesson, with its stage."""
    for item in progress:
        red = item.first_red
        if red is not None:
            return item, red, item.lesson.stage_of(red.spec)
    return None


def read_progress(path: Path) -> dict:
    """A ``progress.json`` as a dict; OSError if it cannot be read, ValueError if it is not one (saying why)."""
    data = json.loads(path.read_text(encoding="utf-8"))  # JSONDecodeError and UnicodeDecodeError are ValueErrors
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict) or not isinstance(data.get("hints", {}), dict):
        raise ValueError('expected {"lessons": {...}, "hints": {...}}')
    data.setdefault("hints", {})
    return data


class State:
    """``.llmfs/progress.json``: {"lessons": {"L01": {"passed", "total", "updated"}}, "hints": {"L01/merge": 2}}."""

    def __init__(self, root: Path = COURSE_ROOT) -> None:
        self.path = root / PROGRESS_FILE

    def load(self) -> dict:
        """The state; a missing file starts afresh, a corrupt one is set aside (``progress.json.corrupt``) first."""
        try:
            return read_progress(self.path)
        except FileNotFoundError:
            pass
        except ValueError as exc:
            kept = self.path.with_name(self.path.name + ".corrupt")
            os.replace(self.path, kept)
            remark(f"{self.path} was corrupt ({str(exc).splitlines()[0]}): kept it as {kept.name} and started afresh")
        return {"version": 1, "lessons": {}, "hints": {}}

    def save(self, data: dict) -> None:
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True))

    def record(self, progress: list[LessonProgress]) -> None:
        data = self.load()
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for item in progress:
            entry = data["lessons"].setdefault(item.lesson.id, {})
            if entry.get("passed") != item.passed:
                entry["changed"] = now
            entry.update(passed=item.passed, total=item.total, checked=now)
        self.save(data)

    def hints_used(self, lesson: Lesson, stage: Stage) -> int:
        return int(self.load()["hints"].get(f"{lesson.id}/{stage.name}", 0))

    def climb_hint(self, lesson: Lesson, stage: Stage) -> tuple[int, str]:
        """The next hint of the stage's ladder (1-based step), recorded; the last step repeats."""
        data = self.load()
        key = f"{lesson.id}/{stage.name}"
        step = min(int(data["hints"].get(key, 0)) + 1, len(stage.hints))
        data["hints"][key] = step
        self.save(data)
        return step, stage.hints[step - 1]
