"""``llmfs nbgrader OUT`` exports an nbgrader course that nbgrader itself can release and autograde.

nbgrader's own ``generate_assignment`` and ``autograde`` (its Python API, offline, sqlite gradebook in the
course directory) run on L01 and L03 with three submissions each: the reference (every point), the
untouched student version (no point) and, for L03, the reference with a classic mistake (some points).
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grader.lessons import get_lesson, load_lessons
from grader.grading.nbgrader_export import HELPER, builds_on, export_course, lesson_notebook
from grader.selfcheck import load_mutants
from grader.sync import BEGIN, END

GRADED = ("l01", "l03")
MISTAKE = "no_scale"  # an L03 mutant: scores not divided by sqrt(d_k)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Object of type:Warning")


def _with_edits(text: str, edits: tuple[tuple[str, str], ...]) -> str:
    """A solution cell with a mutant's edits that fall inside it."""
    for old, new in edits:
        text = text.replace(old, new)
    return text


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    """Export L01 and L03, release them with nbgrader, autograde three submissions; return the scores."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    out = tmp_path_factory.mktemp("nbgrader") / "course"
    export_course(out, lessons=list(GRADED))
    config = PyFileConfigLoader("nbgrader_config.py", path=str(out)).load_config()  # the exported config, as nbgrader reads it
    config.CourseDirectory.root = str(out)
    api = NbGraderAPI(config=config)
    logs = {}
    for assignment in GRADED:
        result = api.generate_assignment(assignment)
        assert result["success"], result["log"]
        release = out / "release" / assignment / f"{assignment}.ipynb"
        source = nbformat.read(out / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        solutions = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if nbgrader_meta(c).get("solution")}
        submissions = {"reference": dict(solutions), "stub": {}}
        if assignment == "l03":
            (mistake,) = [m for m in load_mutants("l03") if m.name == MISTAKE]
            submissions["mistake"] = {gid: _with_edits(text, mistake.edits) for gid, text in solutions.items()}
        for student, cells in submissions.items():
            notebook = nbformat.read(release, as_version=4)
            for cell in notebook.cells:
                if nbgrader_meta(cell).get("grade_id") in cells:
                    cell.source = cells[nbgrader_meta(cell)["grade_id"]]
            folder = out / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / f"{assignment}.ipynb")
            result = api.autograde(assignment, student)
            assert result["success"], result["log"]
            logs[assignment, student] = result["log"]
    scores = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        for assignment in GRADED:
            for submission in gradebook.assignment_submissions(assignment):
                cells = {g.name: g.score for notebook in submission.notebooks for g in notebook.grades}
                scores[assignment, submission.student.id] = (submission.score, submission.max_score, cells)
    return {"out": out, "scores": scores, "logs": logs}


@pytest.mark.parametrize("assignment", GRADED)
def test_the_reference_gets_every_point(course, assignment):
    score, max_score, cells = course["scores"][assignment, "reference"]
    lesson = get_lesson(assignment)
    assert max_score == lesson.points, f"{lesson.id}: nbgrader's maximum {max_score} is not the manifest's {lesson.points}"
    assert score == max_score, f"{lesson.id} reference scored {score}/{max_score}: {cells}"


@pytest.mark.parametrize("assignment", GRADED)
def test_the_student_version_gets_no_point(course, assignment):
    score, max_score, cells = course["scores"][assignment, "stub"]
    assert score == 0, f"{assignment}'s untouched student version scored {score}/{max_score}: {cells}"
    release = nbformat.read(course["out"] / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    assert BEGIN not in text and "YOUR CODE HERE" in text, "the student version must not hold the solutions"


def test_a_classic_mistake_gets_partial_credit(course):
    score, max_score, cells = course["scores"]["l03", "mistake"]
    assert 0 < score < max_score, f"the reference without 1/sqrt(d_k) scored {score}/{max_score}: {cells}"
    assert cells["l03_stage1_softmax"] == 2, f"its softmax is right, so stage 1 keeps its 2 points: {cells}"


def test_the_source_notebook_has_nbgrader_cells_for_every_module_and_stage():
    for lesson in load_lessons():
        notebook = lesson_notebook(lesson, Path(__file__).resolve().parents[1])
        metas = [nbgrader_meta(cell) for cell in notebook.cells]
        assert all(m.get("schema_version") == 3 for m in metas if m), f"{lesson.id}: nbgrader metadata must be schema 3"
        assert len({m["grade_id"] for m in metas if m}) == len([m for m in metas if m]), f"{lesson.id}: grade ids must be unique"
        solutions = [cell for cell in notebook.cells if nbgrader_meta(cell).get("solution")]
        written = [re.match(r"%%module l\d\d/(\w+\.py)\n", c.source).group(1) for c in solutions]
        assert sorted(written) == sorted(lesson.modules), f"{lesson.id}: one solution cell per module of the manifest"
        assert all(BEGIN in c.source and END in c.source for c in solutions), f"{lesson.id}: solution cells keep the markers"
        grades = [m for m in metas if m.get("grade")]
        assert [m["points"] for m in grades] == [stage.points for stage in lesson.stages]
        assert all(m["locked"] for m in grades), f"{lesson.id}: autograder cells must be locked"


def test_a_lesson_is_graded_in_isolation_with_the_reference_of_what_it_builds_on(tmp_path):
    (notebook,) = export_course(tmp_path, lessons=["L06"])
    course = notebook.parent / "course" / "exercises"
    assert builds_on(get_lesson("L06"), Path(__file__).resolve().parents[1]) == ["l03", "l04"]
    assert (course / "l04" / "multihead.py").read_text() == (Path(__file__).resolve().parents[1] / "solutions" / "l04" / "multihead.py").read_text()
    assert not (course / "l06" / "causal.py").exists(), "the lesson's own module comes from the notebook, not the reference"
    assert (course / "l06" / "test_causal.py").is_file() and (notebook.parent / f"{HELPER}.py").is_file()
    assert (tmp_path / "nbgrader_config.py").is_file()
