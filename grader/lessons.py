"""The lesson manifests (``exercises/lNN/lesson.toml``): stages, points, dependencies, hints.

A course root is a folder with ``exercises/`` holding lesson manifests (and, for instructors, ``solutions/``).
Lessons are found by their manifests, so adding a lesson needs no change here. ``llmfs`` works on the course
that holds the current folder (``find_course``, as git and pytest find theirs); ``COURSE_ROOT``, the copy this
grader was installed from, serves only outside any course.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

COURSE_ROOT = Path(__file__).resolve().parent.parent


def is_course(folder: Path) -> bool:
    """A course root: an ``exercises/`` folder with at least one lesson manifest."""
    return any((folder / "exercises").glob("l[0-9][0-9]/lesson.toml"))


def find_course(start: Path | None = None) -> Path | None:
    """The nearest course root at or above ``start`` (default: the current folder), or None outside every course."""
    here = (Path.cwd() if start is None else Path(start)).resolve()
    return next((folder for folder in (here, *here.parents) if is_course(folder)), None)


def dependencies(lesson: Lesson, by_id: dict[str, Lesson]) -> list[Lesson]:
    """Every lesson this one builds on (its manifest's ``depends``), directly or through another."""
    seen: dict[str, Lesson] = {}
    stack = list(lesson.depends)
    while stack:
        name = stack.pop()
        if name not in seen and name in by_id:
            seen[name] = by_id[name]
            stack.extend(by_id[name].depends)
    return sorted(seen.values(), key=lambda item: item.id)


class ManifestError(ValueError):
    """A lesson.toml that is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    points: float
    specs: tuple[str, ...]  # "test_bpe.py::test_merge" (parametrized ids collapse to the function)
    hints: tuple[str, ...]


@dataclass(frozen=True)
class Lesson:
    id: str  # "L01"
    title: str
    summary: str
    depends: tuple[str, ...]
    modules: tuple[str, ...]  # the learner's implementation files, e.g. ("bpe.py",)
    counts: str  # which grading run counts: "isolated" or "cumulative"
    stages: tuple[Stage, ...]
    package: str = field(default="")  # "l01"

    @property
    def points(self) -> float:
        return sum(stage.points for stage in self.stages)

    @property
    def specs(self) -> list[str]:
        """Every spec of the lesson, in stage order."""
        return [spec for stage in self.stages for spec in stage.specs]

    def stage_of(self, spec: str) -> Stage | None:
        for stage in self.stages:
            if spec in stage.specs:
                return stage
        return None

    def stage(self, name_or_number: str) -> Stage:
        """A stage by name ("merge") or by 1-based number ("2")."""
        if name_or_number.isdigit() and 1 <= int(name_or_number) <= len(self.stages):
            return self.stages[int(name_or_number) - 1]
        for stage in self.stages:
            if stage.name == name_or_number:
                return stage
        names = ", ".join(s.name for s in self.stages)
        raise ManifestError(f"{self.id} has no stage {name_or_number!r}; its stages are: {names}")

    def spec_points(self, spec: str) -> float:
        """A stage's points are shared equally by its specs."""
        stage = self.stage_of(spec)
        return stage.points / len(stage.specs) if stage else 0.0


def spec_key(nodeid: str) -> str:
    """``exercises/l01/test_bpe.py::test_merge[case-1]`` -> ``test_bpe.py::test_merge``."""
    path, _, name = nodeid.partition("::")
    return f"{path.rsplit('/', 1)[-1]}::{name.split('[', 1)[0]}"


def lesson_id(text: str) -> str:
    """Normalise "l3", "L03", "03", "3" or "exercises/l03" to "L03"."""
    digits = "".join(ch for ch in Path(text).name if ch.isdigit())
    if not digits:
        raise ManifestError(f"{text!r} is not a lesson (expected something like L03)")
    return f"L{int(digits):02d}"


def _load_manifest(path: Path) -> Lesson:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from exc
    try:
        stages = tuple(
            Stage(
                name=s["name"],
                title=s["title"],
                points=float(s.get("points", 1)),
                specs=tuple(s["specs"]),
                hints=tuple(s.get("hints", ())),
            )
            for s in raw["stages"]
        )
        lesson = Lesson(
            id=raw["id"],
            title=raw["title"],
            summary=raw.get("summary", ""),
            depends=tuple(raw.get("depends", ())),
            modules=tuple(raw["modules"]),
            counts=raw.get("counts", "isolated"),
            stages=stages,
            package=path.parent.name,
        )
    except (KeyError, TypeError) as exc:
        raise ManifestError(f"{path}: missing or malformed field {exc}") from exc
    if lesson.id != lesson_id(lesson.package):
        raise ManifestError(f"{path}: id {lesson.id!r} does not match the folder {lesson.package!r}")
    if lesson.counts not in ("isolated", "cumulative"):
        raise ManifestError(f"{path}: counts must be 'isolated' or 'cumulative', not {lesson.counts!r}")
    seen: set[str] = set()
    for spec in lesson.specs:
        if spec in seen:
            raise ManifestError(f"{path}: spec {spec} is listed in two stages")
        seen.add(spec)
    return lesson


def load_lessons(root: Path = COURSE_ROOT) -> list[Lesson]:
    """Every lesson under ``root/exercises``, in order."""
    return [_load_manifest(p) for p in sorted((root / "exercises").glob("l[0-9][0-9]/lesson.toml"))]


def get_lesson(text: str, root: Path = COURSE_ROOT) -> Lesson:
    wanted = lesson_id(text)
    for lesson in load_lessons(root):
        if lesson.id == wanted:
            return lesson
    raise ManifestError(f"there is no lesson {wanted} in {root / 'exercises'}")
