"""Mechanical mutation testing (``llmfs selfcheck --mutate``) on a tiny synthetic lesson: mutants of every kind,
stable ids, the reviewed equivalents honoured, survivors, timeouts and uncovered code reported."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import cli
from grader import selfcheck_mutate as sm
from grader.lessons import COURSE_ROOT, get_lesson
from grader.sync import sync

CALC = '''\
"""A tiny lesson for the mutation tests."""


def _squares(n):
    ### BEGIN SOLUTION
    return [i * i for i in range(n)]
    ### END SOLUTION


SQUARES = _squares(4)  # computed at import: its mutants need a whole run on a mutated overlay


def mean(xs: list[float], *, start: int = 0) -> float:
    """The mean of xs[start:]; 0.0 when that is empty."""
    ### BEGIN SOLUTION
    items = xs[start:]
    if len(items) == 0:
        return 0.0
    total: float = sum(items, 0.0)
    return total / len(items)
    ### END SOLUTION


def count_up(n: int) -> int:
    """Counts to n, the slow way."""
    ### BEGIN SOLUTION
    i = 0
    while i < n:
        i += 1
    return i
    ### END SOLUTION


def clip(x: float, low: float, high: float) -> float:
    """x limited to [low, high]; a ValueError when low > high."""
    ### BEGIN SOLUTION
    if low > high:
        raise ValueError(f"low {low} > high {high}")
    return max(low, min(x, high))
    ### END SOLUTION


def unused(x):
    """No spec calls this."""
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION


class Acc:
    def __init__(self):
        self.total = 0

    def add(self, x):
        ### BEGIN SOLUTION
        self.total += x
        return self.total
        ### END SOLUTION
'''

SPECS = '''\
from .calc import SQUARES, Acc, clip, count_up, mean


def test_squares():
    assert SQUARES == [0, 1, 4, 9]


def test_mean():
    assert mean([1.0, 2.0, 6.0]) == 3.0
    assert mean([]) == 0.0
    assert mean([5.0, 1.0, 3.0], start=1) == 2.0


def test_count_up():
    assert count_up(3) == 3


def test_clip():
    assert clip(5.0, 0.0, 1.0) == 1.0


def test_acc():
    acc = Acc()
    acc.add(2)
    assert acc.add(3) == 5
'''

MANIFEST = '''\
id = "L01"
title = "Calc"
modules = ["calc.py"]

[[stages]]
name = "all"
title = "All"
specs = ["test_calc.py::test_squares", "test_calc.py::test_mean", "test_calc.py::test_count_up", "test_calc.py::test_clip", "test_calc.py::test_acc"]
hints = ["a", "b"]
'''

EQUIVALENT = '''\
[[equivalent]]
lesson = "L01"
module = "calc.py"
function = "mean"
original = "total: float = sum(items, 0.0)"
mutated = "total: float = sum(items)"
reason = "sum starts at 0 anyway, and 0 + a float is that float"
'''


@pytest.fixture(scope="module")
def calc_course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("calc") / "course"
    (root / "solutions" / "l01").mkdir(parents=True)
    (root / "exercises" / "l01").mkdir(parents=True)
    (root / "data").mkdir()
    for package in ("solutions", "solutions/l01", "exercises"):
        (root / package / "__init__.py").write_text("")
    shutil.copyfile(COURSE_ROOT / "exercises" / "conftest.py", root / "exercises" / "conftest.py")
    (root / "solutions" / "l01" / "calc.py").write_text(CALC)
    (root / "exercises" / "l01" / "test_calc.py").write_text(SPECS)
    (root / "exercises" / "l01" / "lesson.toml").write_text(MANIFEST)
    (root / "exercises" / "l01" / "README.md").write_text("# Calc\n")
    (root / "tests" / "mutants").mkdir(parents=True)
    (root / "tests" / "mutants" / "equivalent.toml").write_text(EQUIVALENT)
    sync(root)
    return root


def _find(mutants, function: str, original: str, mutated: str):
    found = [m for m in mutants if (m.function, m.original, m.mutated) == (function, original, mutated)]
    assert len(found) == 1, f"want one {function}: {original} -> {mutated}, found {len(found)} in {[(m.original, m.mutated) for m in mutants]}"
    return found[0]


def test_mutants_of_every_kind_with_ids_that_survive_edits_elsewhere():
    mutants = sm.generate_module("l01", "calc.py", CALC)
    assert {m.kind for m in mutants} == set(sm.KINDS)
    _find(mutants, "mean", "return total / len(items)", "return total * len(items)")  # operator
    _find(mutants, "count_up", "i = 0", "i = 1")  # constant
    _find(mutants, "mean", "if len(items) == 0:", "if len(items) != 0:")  # comparison
    _find(mutants, "mean", "items = xs[start:]", "items = xs[:]")  # slice: a bound dropped
    _find(mutants, "mean", "items = xs[start:]", "items = xs[start + 1:]")  # slice: a bound moved
    _find(mutants, "clip", "return max(low, min(x, high))", "return max(min(x, high), low)")  # argument: swapped
    _find(mutants, "mean", "total: float = sum(items, 0.0)", "total: float = sum(items)")  # argument: dropped
    _find(mutants, "Acc.add", "self.total += x", "pass")  # statement
    _find(mutants, "Acc.add", "self.total += x", "self.total -= x")  # augmented operator
    # Never the docstrings, the raise message, the annotations, nor code outside the regions.
    assert not any("XX" in m.mutated and "low" in m.mutated for m in mutants)
    assert all(m.mutated.startswith("total: float") for m in mutants if m.original.startswith("total: float") and m.mutated != "pass")
    assert all(m.function != "Acc.__init__" for m in mutants)
    assert all(m.text != CALC and m.text.count("### BEGIN SOLUTION") == 6 for m in mutants)
    # Ids: the same on every run, unique, and the same after edits elsewhere in the file.
    again = sm.generate_module("l01", "calc.py", CALC)
    assert [m.id for m in again] == [m.id for m in mutants]
    assert len({m.id for m in mutants}) == len(mutants)
    edited = CALC.replace('"""A tiny lesson for the mutation tests."""\n', '"""A tiny lesson."""\n\nimport math  # moved every line\n\n\ndef helper(x):\n    ### BEGIN SOLUTION\n    return x - 1\n    ### END SOLUTION\n')
    moved = sm.generate_module("l01", "calc.py", edited)
    assert {m.id for m in mutants} < {m.id for m in moved}
    assert _find(moved, "count_up", "i = 0", "i = 1").line == _find(mutants, "count_up", "i = 0", "i = 1").line + 8


def test_the_same_edit_twice_in_a_function_gets_an_occurrence_number():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    x = x + 1\n    x = x + 1\n    return x\n    ### END SOLUTION\n"
    mutants = [m for m in sm.generate_module("l01", "m.py", source) if m.mutated == "x = x - 1"]
    assert [m.occurrence for m in mutants] == [1, 2] and mutants[0].id != mutants[1].id


def test_a_run_reports_killed_survived_uncovered_timeouts_and_equivalents(calc_course: Path, tmp_path: Path):
    lesson = get_lesson("L01", calc_course)
    equivalents = sm.load_equivalents(calc_course / sm.EQUIVALENTS)
    report = sm.mutate_lesson(lesson, calc_course, jobs=2, equivalents=equivalents, timeout_floor=1.0)
    assert not report.problems, report.problems
    status = {(r.mutant.function, r.mutant.original, r.mutant.mutated): r for r in report.results}
    assert status[("count_up", "i = 0", "i = 1")].status == "survived"  # no spec starts counting from 0
    assert status[("clip", "if low > high:", "if low >= high:")].status == "survived"
    assert status[("unused", "return x + 1", "return x - 1")].status == "uncovered"
    assert status[("count_up", "i += 1", "i -= 1")].status == "timeout"  # never ends
    assert status[("mean", "return total / len(items)", "return total * len(items)")].status == "killed"
    assert status[("mean", "return total / len(items)", "return total * len(items)")].spec == "test_calc.py::test_mean"
    equivalent = status[("mean", "total: float = sum(items, 0.0)", "total: float = sum(items)")]
    assert equivalent.status == "equivalent" and equivalent.equivalent_reason.startswith("sum starts at 0")
    at_import = status[("_squares", "return [i * i for i in range(n)]", "return [i / i for i in range(n)]")]
    assert (at_import.status, at_import.how) == ("killed", "overlay")  # SQUARES is computed at import
    assert report.generated == len(sm.generate(lesson, calc_course))
    assert report.killed == report.count("killed", "timeout") and 0.5 < report.score < sm.GOAL
    assert not report.ok

    # Survivors go out in the equivalents' format; with a reason, the file reads back.
    text = sm.survivors_toml(report.survivors)
    assert "calc.py" in text and 'original = "i = 0"' in text and "(not covered by any spec)" in text
    path = tmp_path / "survivors.toml"
    path.write_text(text.replace('reason = ""', 'reason = "reviewed"'))
    entries = sm.load_equivalents(path)
    assert len(entries) == len(report.survivors)
    assert all(any(e.matches(r.mutant) for e in entries) for r in report.survivors)
    path.write_text(text)
    with pytest.raises(ValueError, match="has no reason"):
        sm.load_equivalents(path)


def test_the_command_prints_survivors_and_fails_below_the_goal(calc_course: Path, tmp_path: Path, monkeypatch, capsys):
    lesson = get_lesson("L01", calc_course)
    mutants = sm.generate_module("l01", "calc.py", CALC)
    survivor = _find(mutants, "count_up", "i = 0", "i = 1")
    killed = [sm.MutantResult(m, "killed", "test_calc.py::test_mean") for m in mutants if m is not survivor][:10]
    canned = sm.LessonMutation(lesson, [*killed, sm.MutantResult(survivor, "survived")], seconds=1.0)
    monkeypatch.setattr(sm, "mutate_lesson", lambda *args, **kwargs: canned)
    assert canned.score < sm.GOAL
    out = tmp_path / "survivors.toml"
    argv = ["--root", str(calc_course), "selfcheck", "--mutate", "L01", "-v", "--survivors", str(out)]
    assert cli.main(argv) == 1
    printed = capsys.readouterr().out
    assert f"solutions/l01/calc.py:{survivor.line}  i = 0 -> i = 1" in printed
    assert "L01: " in printed and "1 survived" in printed
    assert 'mutated = "i = 1"' in out.read_text()
    assert cli.main([*argv, "--report-only"]) == 0
    canned.results[-1].status = "equivalent"
    assert cli.main(argv[:-2]) == 0


def test_the_course_equivalents_file_reads():
    """tests/mutants/equivalent.toml: every entry has a reason and names a lesson."""
    entries = sm.load_equivalents(COURSE_ROOT / sm.EQUIVALENTS)
    assert all(e.reason and e.lesson.startswith("L") for e in entries)


def test_swapped_code_is_what_runs(calc_course: Path):
    """The warm-process swap and a whole run on a mutated overlay agree (here on a survivor and a kill)."""
    lesson = get_lesson("L01", calc_course)
    mutants = sm.generate(lesson, calc_course)
    chosen = [_find(mutants, "count_up", "i = 0", "i = 1"), _find(mutants, "Acc.add", "self.total += x", "self.total -= x")]
    slow = sm._run_on_overlays(lesson, calc_course, chosen, jobs=2, timeout=60)
    assert [r.status for r in slow] == ["survived", "killed"]

