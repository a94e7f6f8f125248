"""The learner's view: where they stand in each lesson, the next red spec, and the hint ladders.

Progress state (last results, hints used, timestamps) lives in one JSON file, ``.llmfs/progress.json`` in
the course root, written atomically. This module owns that file: ``read_progress`` is its one reader (the
roster reads learners' files with it too). A missing file starts afresh; a corrupt one is kept as
``progress.json.corrupt``, with a one-line notice, and the learner starts afresh.

Each lesson's spec results are kept in ``.llmfs/results.json`` (:class:`ResultCache`), keyed by a digest of
everything they depend on, so that ``status``, ``next``, ``check``, ``watch`` and ``hint`` run again only the
lessons in which something changed.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import site
import sys
import sysconfig
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..lessons import COURSE_ROOT, Lesson, ManifestError, Stage, lesson_id, load_lessons
from ..sandbox.run import RunResult, SpecResult, run_specs
from .output import remark, write_atomic

PROGRESS_FILE = Path(".llmfs") / "progress.json"  # in the course root
RESULTS_FILE = Path(".llmfs") / "results.json"  # in the course root: the kept results (ResultCache)


@dataclass(frozen=True)
class LessonProgress:
    lesson: Lesson
    results: list[SpecResult]  # one per manifest spec, stage order
    kept: bool = False  # the results of an earlier run, nothing they depend on having changed since

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
    """Each lesson's results: kept ones where nothing they depend on changed (see :class:`ResultCache`), else a
    run of the learner's own specs (in ``root/exercises``), one run per lesson so that a crash in one lesson never
    hides the others, in parallel over the machine's cores."""
    if not lessons:
        return []
    cache = ResultCache(root, lessons)
    keys = {lesson.id: cache.key(lesson) for lesson in lessons}
    kept = {lesson.id: cache.get(lesson, keys[lesson.id]) for lesson in lessons}

    def run(lesson: Lesson) -> LessonProgress:
        if kept[lesson.id] is not None:
            return LessonProgress(lesson, kept[lesson.id], kept=True)
        result = run_specs(root, [f"exercises/{lesson.package}"], spec_timeout=spec_timeout, total_timeout=600.0)
        results = result.for_lesson(lesson)
        if complete(result, lesson, results):
            cache.put(lesson, keys[lesson.id], results)  # kept only if its inputs are still the same after the run
        return LessonProgress(lesson, results)

    to_run = sum(result is None for result in kept.values())
    workers = max(1, min(to_run, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        progress = list(pool.map(run, lessons))
    cache.save()
    State(root).record(progress)
    return progress


def measure_until_unfinished(lessons: list[Lesson], root: Path = COURSE_ROOT, *, fresh: bool = False) -> list[LessonProgress]:
    """The lessons in order, one at a time, up to the first that is not all green (``llmfs next``): the answer is
    usually in the first lessons, so the later ones are not run. ``fresh``: run each again, kept results or not."""
    progress: list[LessonProgress] = []
    for lesson in lessons:
        if fresh:
            ResultCache(root, [lesson]).forget([lesson])
        progress += measure([lesson], root)
        if not progress[-1].done:
            break
    return progress


def complete(run: RunResult, lesson: Lesson, results: list[SpecResult]) -> bool:
    """Whether a run's results may be kept: a run that timed out, was killed, or left a spec unrun without a
    collection error to say why, and a spec that ran out of time or memory, may turn out otherwise next time."""
    if run.timed_out or run.returncode not in (0, 1, 2, 5):  # pytest: passed, failed, collection error, none collected
        return False
    for result in results:
        module = result.spec.split("::", 1)[0]
        if result.outcome == "missing" and f"{lesson.package}/{module}" not in run.collect_errors:
            return False
        if "from pytest-timeout" in result.message or result.message.startswith("MemoryError"):
            return False
    return True


CACHE_VERSION = 1
_LESSON_NAME = re.compile(rb"\bl\d\d\b")
_PYTEST_CONFIG = ("pyproject.toml", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "conftest.py")
_GRADER = Path(__file__).resolve().parent.parent  # the grader that runs the specs (grader.sandbox)


def _ignored(name: str) -> bool:
    """Files no spec reads: the lesson's text and notebooks, editors' backups and swap files, caches."""
    return name.endswith((".md", ".ipynb", ".pyc", "~")) or name.startswith((".", "#"))


def _folder_files(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        found += [Path(dirpath, name) for name in filenames if not _ignored(name)]
    return sorted(found)


class ResultCache:
    """Each lesson's last results, kept in ``.llmfs/results.json`` and used again while nothing they depend on changed.

    An entry is keyed by a SHA-256 digest of:

    - every file of the lesson's folder ``exercises/lNN`` (its modules, specs, manifest, snapshots), and of the
      folder of every lesson it builds on: its manifest's ``depends``, transitively, and any lesson its files
      import (``from ..l04.multihead import ...``), whatever the manifest says; by content. Markdown and
      notebooks (README.md, lesson.md, lesson.ipynb), hidden files and editors' backups are left out: no spec
      reads them, and a learner saves the notebook often;
    - the files at the top of ``exercises/`` (``conftest.py``, ``spec_helpers.py``) and the course's pytest
      configuration (``pyproject.toml``, ...), by content;
    - ``data/`` (several MB, read by specs of several lessons) by each file's path, size and modification time,
      not its content, so that an unchanged course answers at once: a data file replaced or edited is seen by its
      new time;
    - the grader's spec runner (``grader/sandbox/*.py``, ``grader/lessons.py``), by content, and the Python that
      runs the specs: its version, its path and the modification times of its site-packages folders (which
      change when a package is installed, upgraded or removed).

    Results are kept only from a complete run (see :func:`complete`), and only when the key is the same after
    the run as before it: a file saved during a run is run again next time. A cache file that cannot be read,
    is not JSON or holds anything unexpected is ignored (never an error) and replaced at the next save; a
    results file that cannot be written means the lesson simply runs again next time. ``--fresh`` (``forget``)
    drops a lesson's entry so that it runs again whatever the key.
    """

    def __init__(self, root: Path = COURSE_ROOT, lessons: Iterable[Lesson] = ()) -> None:
        self.root = Path(root)
        self.path = self.root / RESULTS_FILE
        try:
            known = load_lessons(self.root)
        except ManifestError:  # a broken manifest elsewhere: the imports still name what a lesson builds on
            known = []
        self.by_package = {lesson.package: lesson for lesson in [*known, *lessons]}
        self._entries = self._load()
        self._new: dict[str, dict] = {}
        self._digests: dict[Path, bytes] = {}  # the files' digests for the keys computed before the runs
        self._keys: dict[str, str] = {}
        self._imported: dict[str, list[str]] = {}

    # -- the key ----------------------------------------------------------------------------------------------

    def builds_on(self, lesson: Lesson) -> list[str]:
        """The packages ("l03") of every lesson this one's results depend on: ``depends`` and imports, transitively."""
        found: set[str] = set()
        todo = [lesson.package]
        while todo:
            package = todo.pop()
            manifest = self.by_package.get(package)
            named = [_package_of(name) for name in (manifest.depends if manifest else ())]
            named += self._imports(package)
            for other in named:
                if other not in found and other != lesson.package:
                    found.add(other)
                    todo.append(other)
        return sorted(found)

    def _imports(self, package: str) -> list[str]:
        """The lesson folders named on the import lines of a lesson's files (``from ..l04.multihead import``,
        ``exercises.l04``); a name in a comment on such a line counts too, which only costs a needless run."""
        if package not in self._imported:
            names: set[str] = set()
            for path in (self.root / "exercises" / package).glob("*.py"):
                try:
                    text = path.read_bytes()
                except OSError:
                    continue
                for line in text.splitlines():
                    if b"import" in line and (b".." in line or b"exercises" in line):
                        names.update(name.decode() for name in _LESSON_NAME.findall(line))
            self._imported[package] = sorted(names)
        return self._imported[package]

    def key(self, lesson: Lesson) -> str:
        """The digest of everything ``lesson``'s results depend on (computed once per ``ResultCache``)."""
        if lesson.id not in self._keys:
            self._keys[lesson.id] = self._compute_key(lesson, self._digests)
        return self._keys[lesson.id]

    def fresh_key(self, lesson: Lesson) -> str:
        """The key computed again from the files as they are now (safe to call from several threads)."""
        return self._compute_key(lesson, {})

    def _compute_key(self, lesson: Lesson, digests: dict[Path, bytes]) -> str:
        digest = hashlib.sha256()
        content = lambda path: _content(path, digests)  # noqa: E731

        def add(*parts: object) -> None:
            for part in parts:
                digest.update(part if isinstance(part, bytes) else repr(part).encode())
                digest.update(b"\0")

        add("llmfs results", CACHE_VERSION, lesson.id)
        exercises = self.root / "exercises"
        for package in [lesson.package, *self.builds_on(lesson)]:
            for path in _folder_files(exercises / package):
                add(path.relative_to(self.root).as_posix(), content(path))
        tops = [p for p in exercises.iterdir() if p.is_file() and not _ignored(p.name)] if exercises.is_dir() else []
        tops += [self.root / name for name in _PYTEST_CONFIG]
        for path in sorted(tops):
            add(path.relative_to(self.root).as_posix(), content(path))
        for path in _folder_files(self.root / "data"):
            try:
                stat = path.stat()
                add(path.relative_to(self.root).as_posix(), stat.st_size, stat.st_mtime_ns)
            except OSError:
                add(path.relative_to(self.root).as_posix(), None)
        for path in sorted([*(_GRADER / "sandbox").glob("*.py"), _GRADER / "lessons.py"]):
            add(path.name, content(path))
        add(_environment())
        return digest.hexdigest()

    # -- the file ---------------------------------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # missing, unreadable, not UTF-8, not JSON: ignored
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("lessons"), dict):
            return {}
        return data["lessons"]

    def get(self, lesson: Lesson, key: str | None = None) -> list[SpecResult] | None:
        """The kept results of ``lesson`` if they were kept under ``key`` (default: the current one), else None."""
        entry = self._entries.get(lesson.id)
        if not isinstance(entry, dict) or entry.get("key") != (key or self.key(lesson)) or not isinstance(entry.get("results"), list):
            return None
        results = []
        for item in entry["results"]:
            if not (
                isinstance(item, dict) and isinstance(item.get("spec"), str) and isinstance(item.get("message"), str)
                and item.get("outcome") in ("passed", "failed", "error", "skipped", "missing")
                and type(item.get("duration")) in (int, float) and math.isfinite(item["duration"])
            ):  # fmt: skip
                return None
            results.append(SpecResult(item["spec"], item["outcome"], item["message"], float(item["duration"])))
        if [result.spec for result in results] != lesson.specs:
            return None
        return results

    def put(self, lesson: Lesson, key: str, results: list[SpecResult]) -> None:
        """Keep ``results``, run under ``key``, if the lesson's files are still what they were when the run started."""
        if self.fresh_key(lesson) != key:
            return
        self._new[lesson.id] = {
            "key": key,
            "results": [{"spec": r.spec, "outcome": r.outcome, "message": r.message, "duration": r.duration} for r in results],
        }

    def forget(self, lessons: Iterable[Lesson]) -> None:
        """Drop the kept results of ``lessons``: they run again next time."""
        dropped = [lesson.id for lesson in lessons if lesson.id in self._entries]
        if dropped:
            self._write(drop=dropped)

    def save(self) -> None:
        if self._new:
            self._write()

    def _write(self, drop: Iterable[str] = ()) -> None:
        entries = self._load()  # another command may have kept other lessons meanwhile
        entries.update(self._new)
        for lesson_id in drop:
            entries.pop(lesson_id, None)
        try:
            write_atomic(self.path, json.dumps({"version": CACHE_VERSION, "lessons": entries}, indent=1, sort_keys=True))
        except (OSError, TypeError, ValueError):
            return  # the results are only an aid: those lessons run again next time
        self._entries, self._new = entries, {}


def _package_of(lesson: str) -> str:
    """A manifest's ``depends`` entry ("L03") as its folder ("l03")."""
    try:
        return lesson_id(lesson).lower()
    except ManifestError:
        return lesson.lower()


def _content(path: Path, digests: dict[Path, bytes]) -> bytes:
    if path not in digests:
        try:
            digests[path] = hashlib.sha256(path.read_bytes()).digest()
        except OSError:  # absent (an optional configuration file) or unreadable: that is part of the key too
            digests[path] = b"absent"
    return digests[path]


def _environment() -> tuple:
    """What of the Python that runs the specs can change their outcome: its version, its path, and its packages
    (seen through the modification times of the site-packages folders, which change on every install)."""
    folders = {sysconfig.get_paths().get(name) for name in ("purelib", "platlib")} | {site.getusersitepackages()}
    stamps = []
    for folder in sorted(f for f in folders if f):
        try:
            stamps.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:
            stamps.append((folder, None))
    return sys.version, sys.executable, tuple(stamps)


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
