"""Every lesson has a notebook (``exercises/lNN/lesson.md``) that executes on the reference without an error
and draws its figures; on the stubs, an unfinished function reads as one line and the other cells go on.

The figures of the reference run are saved for a reviewer into ``$LLMFS_FIGURES`` (default
``<tmp>/llmfs-figures``); the run prints where.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from grader.lessons import load_lessons
from grader.learner.notebooks import (
    FIGURES_VARIABLE, _StubReporter, execute_lesson, figures_folder, lesson_command, notebook_path, outputs, read_notebook, save_figures, text_of,
)  # fmt: skip

LESSONS = load_lessons()


def by_id(lesson) -> str:
    return lesson.id


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """The notebook runs the selected tests need, on the reference and on the stubs, started at once and run
    two at a time: (lesson id, "reference" | "stubs") -> a future of the executed notebook."""
    work = tmp_path_factory.mktemp("notebooks")
    modes = {test_notebook_runs_on_the_reference_and_draws.__name__: "reference", test_notebook_on_the_stubs_says_not_implemented_in_one_line.__name__: "stubs"}
    wanted = [
        (item.callspec.params["lesson"], modes[item.originalname])
        for item in request.session.items
        if getattr(item, "originalname", None) in modes and item.module is request.module
    ]
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {
        (lesson.id, mode): pool.submit(execute_lesson, lesson, work / f"{lesson.package}-{mode}", reference=mode == "reference")
        for lesson, mode in wanted
        if notebook_path(lesson).is_file()
    }
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def executed(runs: dict, lesson, mode: str):
    if (lesson.id, mode) not in runs:
        pytest.fail(f"{lesson.id} has no notebook")
    try:
        return runs[lesson.id, mode].result()
    except Exception as exc:  # noqa: BLE001 - the cell that failed, with its traceback
        pytest.fail(f"{lesson.id}'s notebook failed on the {mode}:\n{exc}")


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_every_lesson_has_a_notebook_that_sets_itself_up(lesson):
    path = notebook_path(lesson)
    assert path.is_file(), f"{lesson.id} has no notebook: write {path.relative_to(path.parents[2])} (see exercises/l03/lesson.md)"
    notebook = read_notebook(path)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code and f'setup_lesson("{lesson.id}")' in code[0], f"{lesson.id}: the first code cell must call setup_lesson({lesson.id!r})"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3", f"{lesson.id}: the notebook's kernel must be python3"
    imports = {m for cell in code for m in re.findall(r"from exercises\.(l\d\d)\b", cell)}
    assert lesson.package in imports, f"{lesson.id}: the notebook must import the learner's exercises.{lesson.package}"


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_notebook_runs_on_the_reference_and_draws(lesson, runs):
    notebook = executed(runs, lesson, "reference")
    errors = [f"cell {index}: {output.ename}: {output.evalue}" for index, output in outputs(notebook, "error")]
    assert errors == [], f"{lesson.id}'s notebook shows errors on the reference: {errors}"
    assert "⏸" not in text_of(notebook), f"{lesson.id}: a cell reported a stub on the reference"
    for stale in figures_folder().glob(f"{lesson.package}-cell*.png"):
        stale.unlink()
    assert save_figures(notebook, figures_folder(), lesson.package), f"{lesson.id}'s notebook drew no figure"


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_notebook_on_the_stubs_says_not_implemented_in_one_line(lesson, runs):
    notebook = executed(runs, lesson, "stubs")  # the run stops at the first cell that fails
    text = text_of(notebook)
    assert "Traceback" not in text and not list(outputs(notebook, "error")), f"{lesson.id}: a stub must not show a traceback"
    lines = [line for line in text.splitlines() if line.startswith("⏸")]
    assert lines and lines[0].startswith("⏸ L"), f"{lesson.id}: on the stubs the notebook's cells said nothing about them"
    pattern = r"⏸ L\d\d \S+\(\) is not implemented yet — write it in exercises/l\d\d/\w+\.py, then run `pytest exercises/l\d\d -x`\.$"
    assert re.match(pattern, lines[0]), lines[0]


def test_figures_are_saved_for_review(runs, capsys):
    saved = sorted(figures_folder().glob("l[0-9][0-9]-cell*.png"))
    assert saved, "no figure was saved"
    with capsys.disabled():
        print(f"\n  lesson notebook figures ({len(saved)}): {figures_folder()}  (set ${FIGURES_VARIABLE} to choose)")


def test_stub_reporter_explains_stubs_and_what_follows_them():
    reporter = _StubReporter()
    stub = NotImplementedError("L03 softmax() is not implemented yet: write it in exercises/l03/attention.py (stuck? run: llmfs hint L03)")
    assert reporter.explain(NameError("name 'weights' is not defined")) is None, "a NameError before any stub is a real error"
    assert reporter.explain(NotImplementedError("some library")) is None, "only the course's stubs are explained"
    assert reporter.explain(stub) == (
        "⏸ L03 softmax() is not implemented yet — write it in exercises/l03/attention.py, then run `pytest exercises/l03 -x`."
    )
    assert "L03 softmax()" in reporter.explain(NameError("name 'weights' is not defined"))
    assert reporter.explain(ValueError("bad")) is None


def test_lesson_command_writes_an_ipynb(tmp_path):
    assert lesson_command("L03", out=tmp_path) == 0
    (written,) = tmp_path.glob("*.ipynb")
    notebook = nbformat.read(written, as_version=4)
    nbformat.validate(notebook)
    assert 'setup_lesson("L03")' in next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert Path(written).name == "l03-lesson.ipynb"
