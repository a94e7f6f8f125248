"""The kept results of ``llmfs status``/``next``/``check``/``watch``/``hint`` (grader.learner.progress.ResultCache):
used again while nothing a lesson's results depend on changed, run again as soon as something did, ignored when
the file is broken; and ``llmfs next`` runs the lessons in order, stopping at the first unfinished one.

Most tests replace the spec runner with a fake that records which lessons it ran (and passes every spec, or
what the test says); one runs the real specs of the mini course."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from grader import cli
from grader.learner import progress
from grader.learner.progress import RESULTS_FILE, ResultCache, measure, measure_until_unfinished
from grader.lessons import load_lessons
from grader.sandbox.run import RunResult, SpecResult


class FakeRuns:
    """Stands in for ``run_specs``: records the lesson package of each run; every spec passes unless the test
    names the packages whose specs fail (as on the stubs), or sets ``during`` (called inside the run)."""

    def __init__(self, root: Path) -> None:
        self.root, self.calls, self.failing, self.during, self.result = root, [], set(), None, None

    def __call__(self, tree, targets, **options) -> RunResult:
        (target,) = targets
        package = target.rsplit("/", 1)[-1]
        self.calls.append(package)
        if self.during is not None:
            self.during()
        if self.result is not None:
            return self.result
        (lesson,) = [lesson for lesson in load_lessons(self.root) if lesson.package == package]
        outcome = "failed" if package in self.failing else "passed"
        message = "not implemented: a stub" if outcome == "failed" else ""
        return RunResult(specs={package: {spec: SpecResult(spec, outcome, message, 0.01) for spec in lesson.specs}})

    def take(self) -> list[str]:
        calls, self.calls = sorted(self.calls), []
        return calls


@pytest.fixture
def course(mini_course_two: Path) -> Path:
    return mini_course_two


@pytest.fixture
def runs(course: Path, monkeypatch) -> FakeRuns:
    fake = FakeRuns(course)
    monkeypatch.setattr(progress, "run_specs", fake)
    return fake


def _edit(path: Path, text: str = "\n# an edit\n") -> None:
    path.write_text(path.read_text() + text)


def _measure(root: Path) -> list[progress.LessonProgress]:
    return measure(load_lessons(root), root)


# --- kept while nothing changed ----------------------------------------------------------------------------


def test_results_are_kept_while_nothing_changed(course, runs):
    first = _measure(course)
    assert runs.take() == ["l01", "l02"] and not any(item.kept for item in first)
    second = _measure(course)
    assert runs.take() == [], "nothing changed: no spec runs"
    assert all(item.kept for item in second)
    assert [item.results for item in second] == [item.results for item in first]


def test_saving_a_file_unchanged_runs_nothing(course, runs):
    _measure(course)
    runs.take()
    module = course / "exercises" / "l01" / "toy.py"
    os.utime(module, ns=(1, 1))  # a new time, the same content
    _measure(course)
    assert runs.take() == []


def test_the_real_specs_are_kept_and_not_run_again(mini_course, monkeypatch):
    lessons = load_lessons(mini_course)
    (first,) = measure(lessons, mini_course)
    assert (first.passed, first.total) == (0, 3) and first.first_red.message.startswith("not implemented: L01 add()")
    assert (mini_course / RESULTS_FILE).is_file()

    def no_run(*args, **kwargs):
        raise AssertionError("a spec ran although nothing changed")

    monkeypatch.setattr(progress, "run_specs", no_run)
    (second,) = measure(lessons, mini_course)
    assert second.kept and second.results == first.results


# --- run again when something changed ----------------------------------------------------------------------


def test_editing_a_lessons_module_runs_it_and_the_lessons_built_on_it(course, runs):
    _measure(course)
    runs.take()
    _edit(course / "exercises" / "l02" / "double.py")
    _measure(course)
    assert runs.take() == ["l02"], "L01 does not build on L02"
    _edit(course / "exercises" / "l01" / "toy.py")
    _measure(course)
    assert runs.take() == ["l01", "l02"], "L02 builds on L01"


@pytest.mark.parametrize(
    "changed",
    ["exercises/l01/test_toy.py", "exercises/l01/lesson.toml", "exercises/conftest.py", "exercises/spec_helpers.py", "pyproject.toml"],
)
def test_a_spec_manifest_or_shared_file_runs_the_lesson_again(course, runs, changed):
    _measure(course)
    runs.take()
    path = course / changed
    path.write_text((path.read_text() if path.exists() else "") + "\n# changed\n")
    _measure(course)
    assert "l01" in runs.take()


def test_a_changed_data_file_runs_the_lessons_again(course, runs):
    data = course / "data" / "corpus.txt"
    data.write_text("to be")
    _measure(course)
    runs.take()
    data.write_text("or not")
    _measure(course)
    assert runs.take() == ["l01", "l02"]


def test_an_import_the_manifest_does_not_declare_still_counts(course, runs):
    manifest = course / "exercises" / "l02" / "lesson.toml"
    manifest.write_text(manifest.read_text().replace('depends = ["L01"]', "depends = []"))
    (l02,) = [lesson for lesson in load_lessons(course) if lesson.id == "L02"]
    assert l02.depends == () and ResultCache(course).builds_on(l02) == ["l01"], "double.py imports ..l01"
    _measure(course)
    runs.take()
    _edit(course / "exercises" / "l01" / "toy.py")
    _measure(course)
    assert runs.take() == ["l01", "l02"]


def test_a_file_saved_during_the_run_is_run_again_next_time(course, runs):
    module = course / "exercises" / "l01" / "toy.py"
    before = module.read_text()
    runs.during = lambda: _edit(module, "\n# saved while the specs ran\n")
    _measure(course)
    runs.during = None
    runs.take()
    module.write_text(before)  # back to the content the run started with: the run may have seen either version
    _measure(course)
    assert "l01" in runs.take(), "a result of a run during which a file changed is not kept"


@pytest.mark.parametrize(
    "result",
    [
        RunResult(timed_out=True, returncode=-9),
        RunResult(returncode=-9),  # the runner was killed
        RunResult(specs={"l01": {"test_toy.py::test_add_small": SpecResult("test_toy.py::test_add_small", "passed")}}),  # specs unrun
        RunResult(specs={"l01": {s: SpecResult(s, "failed", "Failed: Timeout (>60.0s) from pytest-timeout.") for s in
                                 ("test_toy.py::test_add_small", "test_toy.py::test_add_negative", "test_toy.py::test_counter")}}),
    ],
    ids=["timed-out", "killed", "unrun-specs", "spec-timeout"],
)  # fmt: skip
def test_an_incomplete_run_is_not_kept(course, runs, result):
    lessons = [lesson for lesson in load_lessons(course) if lesson.id == "L01"]
    runs.result = result
    measure(lessons, course)
    runs.result = None
    runs.take()
    measure(lessons, course)
    assert runs.take() == ["l01"]


def test_a_collection_error_is_kept(course, runs):
    lessons = [lesson for lesson in load_lessons(course) if lesson.id == "L01"]
    runs.result = RunResult(collect_errors={"l01/test_toy.py": "collection error: SyntaxError"}, returncode=2)
    (item,) = measure(lessons, course)
    assert item.first_red.message == "collection error: SyntaxError"
    runs.take()
    (again,) = measure(lessons, course)
    assert runs.take() == [] and again.kept and again.results == item.results


# --- a broken cache file is ignored --------------------------------------------------------------------------


def _valid_key(course: Path) -> str:
    (lesson, *_) = load_lessons(course)
    return ResultCache(course).key(lesson)


@pytest.mark.parametrize(
    "content",
    [
        b"{ not json",
        b"\xff\xfe\x00 binary",
        b"[]",
        b'{"version": 1, "lessons": []}',
        b'{"version": 99, "lessons": {}}',
        b'{"version": 1, "lessons": {"L01": "text"}}',
        b'{"version": 1, "lessons": {"L01": {"key": "KEY", "results": [{"spec": 1}]}}}',
        b'{"version": 1, "lessons": {"L01": {"key": "KEY", "results": [{"spec": "test_toy.py::test_add_small", "outcome": "passed", "message": "", "duration": 0.1}]}}}',
        b'{"version": 1, "lessons": {"L01": {"key": "KEY", "results": []}}}',
        b"[" * 100000,
    ],
    ids=["not-json", "binary", "a-list", "lessons-a-list", "other-version", "entry-a-string", "bad-result", "too-few-specs", "no-specs", "deep"],
)
def test_a_broken_cache_file_is_ignored(course, runs, content):
    path = course / RESULTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.replace(b"KEY", _valid_key(course).encode()))
    items = _measure(course)
    assert runs.take() == ["l01", "l02"] and not any(item.kept for item in items)
    assert json.loads(path.read_text())["version"] == progress.CACHE_VERSION, "replaced by a good one"
    _measure(course)
    assert runs.take() == []


def test_a_cache_that_cannot_be_written_is_no_error(course, runs, monkeypatch):
    def cannot_write(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(progress, "write_atomic", cannot_write)
    monkeypatch.setattr(progress.State, "save", lambda self, data: None)
    _measure(course)
    assert runs.take() == ["l01", "l02"]
    _measure(course)
    assert runs.take() == ["l01", "l02"], "not kept: run again"


# --- the commands share the kept results; --fresh runs again -------------------------------------------------


def test_status_check_hint_and_watch_share_the_kept_results(course, runs, capsys):
    root = ["--root", str(course)]
    runs.failing = {"l01", "l02"}
    assert cli.main([*root, "status"]) == 0
    assert runs.take() == ["l01", "l02"]
    assert cli.main([*root, "status"]) == 0
    out = capsys.readouterr().out
    assert runs.take() == [] and "Not run again, unchanged since the last run: every lesson (llmfs status --fresh" in out
    assert cli.main([*root, "check", "L01"]) == 1
    assert runs.take() == [] and "Not run again: unchanged since the last run" in capsys.readouterr().out
    assert cli.main([*root, "hint", "L01"]) == 0
    assert cli.main([*root, "watch", "L01", "--once"]) == 1
    assert cli.main([*root, "next"]) == 0
    assert runs.take() == []


@pytest.mark.parametrize("command", [["status"], ["check", "L02"], ["next"]])
def test_fresh_runs_again(course, runs, command):
    root = ["--root", str(course)]
    cli.main([*root, *command])
    first = runs.take()
    assert first
    cli.main([*root, *command])
    assert runs.take() == []
    cli.main([*root, *command, "--fresh"])
    assert runs.take() == first


def test_watch_runs_again_when_a_lesson_it_builds_on_changes(course, runs, monkeypatch):
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 1:
            _edit(course / "exercises" / "l01" / "toy.py")
        if len(naps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", sleep)
    assert cli.main(["--root", str(course), "watch", "L02"]) == 0
    assert runs.take() == ["l02", "l02"], "run at the start, again after L01's module changed, not after a quiet pause"


# --- next stops at the first unfinished lesson ----------------------------------------------------------------


def test_next_stops_at_the_first_unfinished_lesson(course, runs, capsys):
    runs.failing = {"l01", "l02"}
    assert cli.main(["--root", str(course), "next"]) == 0
    assert runs.take() == ["l01"], "L01 is red: L02 is not run"
    assert "Next: L01 stage 1" in capsys.readouterr().out

    runs.failing = {"l02"}
    _edit(course / "exercises" / "l01" / "toy.py")  # L01 solved
    assert cli.main(["--root", str(course), "next"]) == 0
    assert runs.take() == ["l01", "l02"]
    assert "Next: L02 stage 1" in capsys.readouterr().out


def test_next_when_everything_is_green_runs_each_lesson_once(course, runs, capsys):
    assert [item.lesson.id for item in measure_until_unfinished(load_lessons(course), course)] == ["L01", "L02"]
    assert runs.take() == ["l01", "l02"]
    assert cli.main(["--root", str(course), "next"]) == 0
    assert runs.take() == [] and "Every spec is green" in capsys.readouterr().out


def test_the_cache_lives_in_the_courses_llmfs_folder(course, runs):
    _measure(course)
    data = json.loads((course / ".llmfs" / "results.json").read_text())
    assert set(data["lessons"]) == {"L01", "L02"}
    shutil.rmtree(course / ".llmfs")
    _measure(course)
    assert runs.take() == ["l01", "l01", "l02", "l02"], "removed with .llmfs: run again"
