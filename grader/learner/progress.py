"""The learner's view: where they stand in each lesson, the next red spec, and the hint ladders.

Progress state (last results, hints used, timestamps) lives in one JSON file, ``.llmfs/progress.json`` in
the course root, written atomically; a missing or corrupt file is rebuilt, never a crash.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..lessons import COURSE_ROOT, Lesson, Stage
from ..sandbox.run import SpecResult, run_specs


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


class State:
    """``.llmfs/progress.json``: {"lessons": {"L01": {"passed", "total", "updated"}}, "hints": {"L01/merge": 2}}."""

    def __init__(self, root: Path = COURSE_ROOT) -> None:
        self.path = root / ".llmfs" / "progress.json"

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("lessons"), dict) and isinstance(data.get("hints"), dict):
                return data
        except (OSError, ValueError):
            pass  # missing or corrupt: start afresh
        return {"version": 1, "lessons": {}, "hints": {}}

    def save(self, data: dict) -> None:
        """Write to a temporary file and rename it over the old one, so a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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
