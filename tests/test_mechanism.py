"""The course machinery on a tiny synthetic course: stubs, overlays, the runner, the self-check, progress."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import cli
from grader.lessons import ManifestError, get_lesson, lesson_id, load_lessons, spec_key
from grader.sandbox.overlay import build_overlay, reference_sources
from grader.learner.progress import State, measure, next_step
from grader.sandbox.run import read_results, run_specs
from grader.selfcheck import check_lesson, load_mutants
from grader.sync import MarkerError, make_stub, out_of_sync, sync


def test_stub_replaces_each_region_with_one_line_naming_the_function(mini_course: Path):
    stub = (mini_course / "exercises" / "l01" / "toy.py").read_text()
    assert "BEGIN SOLUTION" not in stub and "return a + b" not in stub
    assert "raise NotImplementedError('L01 add() is not implemented yet: write it in exercises/l01/toy.py" in stub
    assert "L01 Counter.bump() is not implemented yet" in stub
    assert '"""Return a + b.' in stub, "docstrings stay outside the markers and must survive"
    assert "self.count = 0" in stub, "scaffolding outside the markers is kept"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION\n", "inside a function"),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
        ("def f():\n    ### END SOLUTION\n    return 1\n", "without a"),
        ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "inside another"),
        ("def f(:\n", "not valid Python"),
    ],
)
def test_bad_markers_are_clear_errors(source: str, error: str):
    with pytest.raises(MarkerError, match=error):
        make_stub(source, package="l01", module="x.py")


def test_sync_detects_drift_and_repairs_it(mini_course: Path):
    assert out_of_sync(mini_course) == []
    stub = mini_course / "exercises" / "l01" / "toy.py"
    stub.write_text(stub.read_text() + "\n# edited by hand\n")
    assert out_of_sync(mini_course) == ["exercises/l01/toy.py"]
    assert sync(mini_course) == [stub]
    assert out_of_sync(mini_course) == []


def test_lesson_ids_and_spec_keys():
    assert [lesson_id(x) for x in ("L3", "l03", "3", "exercises/l03")] == ["L03"] * 4
    assert spec_key("exercises/l01/test_bpe.py::test_merge[case-1]") == "test_bpe.py::test_merge"
    with pytest.raises(ManifestError):
        lesson_id("tokenizer")


def test_manifest_errors_name_the_file(mini_course: Path):
    manifest = mini_course / "exercises" / "l01" / "lesson.toml"
    manifest.write_text(manifest.read_text().replace('id = "L01"', 'id = "L02"'))
    with pytest.raises(ManifestError, match="does not match the folder"):
        load_lessons(mini_course)
    manifest.write_text("not [toml")
    with pytest.raises(ManifestError, match="cannot read"):
        get_lesson("L01", mini_course)


def test_overlay_takes_only_the_manifest_modules_from_a_source(mini_course: Path, tmp_path: Path):
    learner = tmp_path / "learner"
    learner.mkdir()
    (learner / "toy.py").write_text("def add(a, b):\n    return 42\n")
    (learner / "test_toy.py").write_text("def test_add_small():\n    pass\n")  # a forged spec is ignored
    tree = build_overlay(tmp_path / "ov", sources={"l01": learner}, course_root=mini_course)
    assert (tree / "exercises" / "l01" / "toy.py").read_text() == "def add(a, b):\n    return 42\n"
    assert (tree / "exercises" / "l01" / "test_toy.py").read_text() == (
        mini_course / "exercises" / "l01" / "test_toy.py"
    ).read_text()


def test_runner_reports_one_outcome_per_spec(mini_course: Path, tmp_path: Path):
    tree = build_overlay(tmp_path / "ov", sources=reference_sources(mini_course), course_root=mini_course)
    (mutant,) = load_mutants("l01", mini_course)
    tree2 = build_overlay(
        tmp_path / "ov2", sources=reference_sources(mini_course), course_root=mini_course,
        modules={("l01", mutant.target): mutant.module_text((mini_course / "solutions" / "l01" / mutant.target).read_text())},
    )  # fmt: skip
    lesson = get_lesson("L01", mini_course)
    assert [r.outcome for r in run_specs(tree, ["exercises/l01"]).for_lesson(lesson)] == ["passed"] * 3
    results = run_specs(tree2, ["exercises/l01"]).for_lesson(lesson)
    assert [r.outcome for r in results] == ["failed", "failed", "passed"]
    assert results[0].message == "add(2, 3) should be 5"


def test_results_fold_parametrized_cases_and_phases(tmp_path: Path):
    lines = [
        {"nodeid": "exercises/l01/test_a.py::test_x[1]", "when": "call", "outcome": "passed", "message": "", "duration": 0.1},
        {"nodeid": "exercises/l01/test_a.py::test_x[2]", "when": "call", "outcome": "failed", "message": "boom", "duration": 0.1},
        {"nodeid": "exercises/l01/test_a.py::test_y", "when": "call", "outcome": "passed", "message": "", "duration": 0.1},
        {"nodeid": "exercises/l01/test_a.py::test_y", "when": "teardown", "outcome": "error", "message": "E", "duration": 0.0},
        {"nodeid": "exercises/l01/test_b.py", "when": "collect", "outcome": "error", "message": "collection error: x", "duration": 0},
    ]
    forged = {"nodeid": "exercises/l01/test_a.py::test_z", "when": "call", "outcome": "passed", "message": "", "duration": 0}
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps({"nonce": "s3cret", **line}) for line in lines) + "\n" + json.dumps(forged) + "\n{truncated")
    run = read_results(path, "s3cret")
    assert "test_a.py::test_z" not in run.specs["l01"], "a line without the run's secret is not a result"
    assert run.specs["l01"]["test_a.py::test_x"].outcome == "failed"
    assert run.specs["l01"]["test_a.py::test_x"].message == "boom"
    assert run.specs["l01"]["test_a.py::test_y"].outcome == "error"
    assert run.collect_errors == {"l01/test_b.py": "collection error: x"}


def test_selfcheck_passes_a_sound_lesson(mini_course: Path):
    check = check_lesson(get_lesson("L01", mini_course), mini_course, jobs=2)
    assert check.problems == []
    assert (check.stub_red, check.reference_green, check.mutants_caught) == (3, 3, 1)
    assert check.mutants == {"subtracts": ["test_toy.py::test_add_small"]}, "a mutant run stops at the first red spec"


def test_selfcheck_catches_vacuous_specs_unlisted_specs_and_live_mutants(mini_course: Path):
    specs = mini_course / "exercises" / "l01" / "test_toy.py"
    specs.write_text(
        specs.read_text().replace('assert add(-2, 3) == 1, "add(-2, 3) should be 1"', "pass")
        + "\n\ndef test_extra():\n    assert add(1, 1) == 2\n"
    )
    (mini_course / "tests" / "mutants" / "l01" / "harmless.py").write_text('"""Changes nothing."""\nTARGET = "toy.py"\n')
    problems = "\n".join(check_lesson(get_lesson("L01", mini_course), mini_course, jobs=2).problems)
    assert "test_toy.py::test_add_negative should fail with 'not implemented', got passed" in problems
    assert "test_toy.py::test_extra is collected but listed in no stage" in problems
    assert "mutant harmless (Changes nothing.) is caught by no spec" in problems


def test_selfcheck_reports_a_collection_error(mini_course: Path):
    specs = mini_course / "exercises" / "l01" / "test_toy.py"
    specs.write_text("from .toy import missing_name\n" + specs.read_text())
    check = check_lesson(get_lesson("L01", mini_course), mini_course, jobs=2)
    assert any("collection error on the stubs in l01/test_toy.py" in p for p in check.problems)
    assert all(r.outcome == "missing" for r in check.reference)


def test_progress_status_next_and_hints(mini_course: Path, capsys):
    (item,) = measure(load_lessons(mini_course), mini_course)
    assert (item.passed, item.total, item.points) == (0, 3, 0)
    _, red, stage = next_step([item])
    assert red.spec == "test_toy.py::test_add_small" and stage.name == "add"
    assert red.message.startswith("not implemented: L01 add() is not implemented yet")

    state = State(mini_course)
    lesson = item.lesson
    assert [state.climb_hint(lesson, stage)[0] for _ in range(3)] == [1, 2, 2], "the ladder stops at its top"
    state.path.write_text("{ corrupt")
    assert state.hints_used(lesson, stage) == 0, "a corrupt state file is rebuilt, not a crash"

    assert cli.main(["--root", str(mini_course), "status"]) == 0
    out = capsys.readouterr().out
    assert "0/3" in out and "Next:" in out and "Think plus." in out


def test_status_counts_a_learners_progress(mini_course: Path):
    stub = mini_course / "exercises" / "l01" / "toy.py"
    stub.write_text(stub.read_text().replace("raise NotImplementedError('L01 add()", "return a + b\n    raise NotImplementedError('L01 add()"))
    (item,) = measure(load_lessons(mini_course), mini_course)
    assert (item.passed, item.points) == (2, 2.0)
    assert json.loads(State(mini_course).path.read_text())["lessons"]["L01"]["passed"] == 2
