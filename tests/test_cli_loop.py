"""The learner's loop through ``llmfs``: text printed as written, the course found from the current folder, and
bad input answered in one line, with nothing lost (issue 14)."""
from __future__ import annotations

import ast
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from grader import cli
from grader.doctor import run_checks
from grader.grading.roster import collect, render_table, roster_command
from grader.learner import output, progress
from grader.learner.progress import LessonProgress, State
from grader.lessons import COURSE_ROOT, load_lessons
from grader.sandbox.run import SpecResult

LESSONS = load_lessons(COURSE_ROOT)
SPEC_FILES = sorted(COURSE_ROOT.glob("exercises/l[0-9][0-9]/test_*.py")) + [COURSE_ROOT / "exercises" / "spec_helpers.py"]


@pytest.fixture
def wide(monkeypatch):
    """The CLI's own console, wide enough that no line is wrapped: what it prints is compared byte for byte."""
    monkeypatch.setattr(output.console, "width", 100_000)


def _manifests_only(root: Path) -> Path:
    """A course with the real lesson manifests and nothing else (hints need no specs run)."""
    for lesson in LESSONS:
        (root / "exercises" / lesson.package).mkdir(parents=True)
        shutil.copyfile(COURSE_ROOT / "exercises" / lesson.package / "lesson.toml", root / "exercises" / lesson.package / "lesson.toml")
    return root


# --- every text a learner reads is printed literally -------------------------------------------------------


def test_every_hint_of_every_manifest_prints_as_written(tmp_path, wide, capsys):
    root = _manifests_only(tmp_path / "course")
    count = 0
    for lesson in LESSONS:
        for stage in lesson.stages:
            for hint in stage.hints:
                assert cli.main(["hint", lesson.id, stage.name, "--root", str(root)]) == 0
                assert f"\n  {hint}\n" in capsys.readouterr().out, f"{lesson.id} {stage.name}: the hint changed on the way out: {hint!r}"
                count += 1
    assert count > 150, f"only {count} hints found"


def _literal(node: ast.AST) -> str | None:
    """A string or f-string as its template: the text, with each placeholder as {its expression}."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}" for v in node.values)
    return None


def message_templates(path: Path) -> list[str]:
    """The message texts of a spec file: assert messages, AssertionError, pytest.fail and raises_value_error
    arguments, and the strings assigned to the names they use (``hint``, ``mistake``, ...)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            roots.append(node.msg)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and ast.unparse(node.exc.func) == "AssertionError":
            roots += node.exc.args
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("pytest.fail", "raises_value_error"):
            roots += node.args
    names = {n.id for root in roots for n in ast.walk(root) if isinstance(n, ast.Name)}
    roots += [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(getattr(t, "id", None) in names for t in n.targets)]
    found = []
    for root in roots:
        inside = {id(part) for n in ast.walk(root) if isinstance(n, ast.JoinedStr) for part in ast.walk(n) if part is not n}
        found += [text for n in ast.walk(root) if id(n) not in inside and (text := _literal(n)) and text.strip()]
    return found


def _red(lesson, message: str) -> LessonProgress:
    """The lesson with its first spec red with ``message`` and the rest green."""
    results = [SpecResult(spec, "passed") for spec in lesson.specs]
    results[0] = SpecResult(lesson.specs[0], "failed", message)
    return LessonProgress(lesson, results)


def test_every_spec_message_template_prints_as_written(monkeypatch, wide, capsys):
    templates = sorted({text for path in SPEC_FILES for text in message_templates(path)})
    assert len(templates) > 500, f"only {len(templates)} message templates found"
    assert any("[" in text for text in templates), "the templates include brackets, the case that broke"
    lesson = LESSONS[0]
    monkeypatch.setattr(cli, "get_lesson", lambda text, root: lesson)  # reading the manifests again is not the point
    for template in templates:
        item = _red(lesson, template)
        monkeypatch.setattr(progress, "measure", lambda lessons, root: [item])  # noqa: B023 - called in this iteration
        assert cli.main(["check", lesson.id]) == 1
        out = capsys.readouterr().out
        assert f"\n      {template}\n" in out, f"the message changed on the way out: {template!r}"


@pytest.mark.parametrize("command", [["check", "L01"], ["next"], ["status"], ["watch", "L01", "--once"]])
def test_a_message_that_looks_like_markup_prints_as_is(command, monkeypatch, wide, capsys):
    message = "cannot open [/tmp/x]: counts[pair] = [bold]1[/bold]"
    monkeypatch.setattr(progress, "measure", lambda lessons, root: [_red(lesson, message) for lesson in lessons])
    cli.main(command)
    captured = capsys.readouterr()
    assert message in captured.out and "MarkupError" not in captured.err + captured.out


# --- the course is the current folder's -------------------------------------------------------------------


def test_llmfs_finds_the_course_from_the_current_folder_upward(mini_course, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(mini_course / "exercises" / "l01")
    assert cli.main(["hint", "L01", "add"]) == 0
    captured = capsys.readouterr()
    assert "Think plus." in captured.out and captured.err == "", "the current folder's course, without a remark"
    assert (mini_course / ".llmfs" / "progress.json").is_file(), "the progress goes into the current folder's course"

    monkeypatch.chdir(tmp_path)
    assert cli.main(["hint", "L01", "add", "--root", str(mini_course)]) == 0, "--root after the command"
    captured = capsys.readouterr()
    assert "return a + b" in captured.out
    assert captured.err.count(f"using the course at {mini_course.resolve()}") == 1, "says once which course it used"

    assert cli.main(["--root", str(tmp_path), "hint", "L01"]) == 2
    assert "is not a course" in capsys.readouterr().out
    assert cli.main(["chat", "some/checkpoint", "--root", str(mini_course)]) == 2, "the chat takes --root after it too"
    assert f"{mini_course.resolve() / 'exercises'} has no l10/chat.py" in capsys.readouterr().err


def test_outside_every_course_llmfs_uses_the_installed_one_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.course_root(None) == COURSE_ROOT.resolve()
    assert f"no course in {tmp_path}" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["status", "--help"]])
def test_root_is_documented_before_and_after_the_command(argv, capsys):
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert "--root FOLDER" in capsys.readouterr().out


# --- bad input: one line, a non-zero exit, nothing lost ---------------------------------------------------


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, f"expected one line, got:\n{text}"
    return lines[0]


UNUSABLE_TEXTS = [
    (bytes(range(256)) * 4, "is not UTF-8 text"),
    (b"", "holds no text"),
    (b"To be, or not to be.\n", "too few for --block-size"),
]


@pytest.mark.parametrize("content, says", UNUSABLE_TEXTS, ids=["binary", "empty", "shorter-than-a-block"])
def test_training_on_an_unusable_text_says_so_before_any_step(content, says, tmp_path, capsys):
    from solutions.l08 import train

    text = tmp_path / "corpus.txt"
    text.write_bytes(content)
    argv = ["--data-path", str(text), "--out", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"), "--vocab-size", "260"]
    assert train.main(argv) == 2
    captured = capsys.readouterr()
    assert says in _one_line(captured.err) and "loss" not in captured.out + captured.err


def test_resuming_from_a_garbage_checkpoint_says_so_without_unsafe_advice(tmp_path, capsys):
    from solutions.l08 import train

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "ckpt.pt").write_bytes(b"garbage, not a checkpoint")
    assert train.main(["--out", str(tmp_path / "run"), "--resume", "--max-steps", "1", "--warmup-steps", "0"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "cannot resume" in line and "weights_only" not in line


@pytest.mark.parametrize("package", ["solutions", "exercises"])
def test_sampling_from_a_garbage_checkpoint_says_so_without_unsafe_advice(package, tmp_path, capsys):
    sample = __import__(f"{package}.l09.sample", fromlist=["main"])
    (tmp_path / "model.pt").write_bytes(bytes(range(256)))
    assert sample.main(["--checkpoint", str(tmp_path / "model.pt")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "not a readable checkpoint" in line and "weights_only" not in line


BAD_SAMPLING = [
    ("--top-p", "1.5"),
    ("--top-p", "nan"),
    ("--top-k", "0"),
    ("--temperature", "-1"),
    ("--repetition-penalty", "0"),
    ("--beams", "0"),
    ("--max-new-tokens", "-1"),
]


@pytest.mark.parametrize("option, value", BAD_SAMPLING)
def test_sampling_options_are_checked_before_any_model_loads(option, value, capsys):
    from solutions.l09 import sample

    assert sample.main(["--checkpoint", "/nowhere", option, value]) == 2
    assert option in _one_line(capsys.readouterr().err)


def test_sampling_on_the_stubs_says_what_is_not_implemented(capsys):
    from exercises.l09 import sample

    assert sample.main(["--max-new-tokens", "3"]) == 1
    assert "is not implemented yet" in _one_line(capsys.readouterr().err)


def test_grade_refuses_a_missing_submission_and_an_unwritable_out_before_grading(mini_course, tmp_path, monkeypatch, capsys):
    import grader.grading.grade as grading

    monkeypatch.setattr(grading, "grade", lambda *a, **k: pytest.fail("grading started before its arguments were checked"))
    submissions = tmp_path / "submissions"
    shutil.copytree(mini_course / "exercises", submissions / "alice" / "exercises")
    root = ["--root", str(mini_course)]
    assert cli.main([*root, "grade", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "out")]) == 2
    assert "no such submission" in _one_line(capsys.readouterr().out)
    assert not (tmp_path / "out").exists(), "no reports for a phantom learner"

    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, says in ((afile, "is a file"), (afile / "sub", "cannot be written")):
        assert cli.main([*root, "grade", str(submissions), "--out", str(out)]) == 2
        assert says in _one_line(capsys.readouterr().out)


def test_lesson_and_release_refuse_a_file_as_their_folder(mini_course, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli.main(["--root", str(COURSE_ROOT), "lesson", "L01", "--out", str(afile)]) == 2
    assert "is a file" in _one_line(capsys.readouterr().out)
    assert cli.main(["--root", str(COURSE_ROOT), "lesson", "L01", "--out", str(afile / "sub")]) == 2
    assert "cannot be written" in _one_line(capsys.readouterr().out)
    assert cli.main(["--root", str(mini_course), "release", str(afile)]) == 2
    assert "is a file" in _one_line(capsys.readouterr().out)
    assert afile.read_text() == "x"


def _git_course(root: Path) -> Path:
    git = ["git", "-C", str(root), "-c", "user.email=i@example.org", "-c", "user.name=Instructor"]
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "course"], check=True)
    return root


def _branch_head(root: Path, branch: str) -> str:
    return subprocess.run(["git", "-C", str(root), "rev-parse", branch], capture_output=True, text=True).stdout.strip()


def test_release_branch_is_validated_first_and_replaced_only_with_force(mini_course, tmp_path, capsys):
    course = _git_course(mini_course)
    root = ["--root", str(course)]
    assert cli.main([*root, "release", str(tmp_path / "bad"), "--branch", "no..good"]) == 2
    assert "not a valid git branch name" in _one_line(capsys.readouterr().out) and not (tmp_path / "bad").exists()
    assert cli.main([*root, "release", str(tmp_path / "main"), "--branch", "main"]) == 2
    assert "checked out" in _one_line(capsys.readouterr().out) and not (tmp_path / "main").exists()

    assert cli.main([*root, "release", str(tmp_path / "one"), "--branch", "learners"]) == 0
    assert "committed" in capsys.readouterr().out
    first = _branch_head(course, "learners")
    assert cli.main([*root, "release", str(tmp_path / "two"), "--branch", "learners"]) == 2
    assert "--force" in _one_line(capsys.readouterr().out) and not (tmp_path / "two").exists(), "refused before writing"
    assert _branch_head(course, "learners") == first
    (course / "exercises" / "l01" / "README.md").write_text("A new edition.\n")
    assert cli.main([*root, "release", str(tmp_path / "two"), "--branch", "learners", "--force"]) == 0
    assert _branch_head(course, "learners") != first


def test_ctrl_c_in_watch_exits_quietly(mini_course, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(progress, "measure", interrupted)
    assert cli.main(["--root", str(mini_course), "watch", "L01"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "KeyboardInterrupt" not in captured.out + captured.err


def test_llmfs_imports_no_torch_before_it_can_answer_ctrl_c():
    """Ctrl-C during a slow import would be a traceback: the command line itself loads only what parsing needs."""
    done = subprocess.run([sys.executable, "-c", "import sys, grader.cli; print('torch' in sys.modules)"], capture_output=True, text=True, cwd=COURSE_ROOT)
    assert done.stdout.strip() == "False", done.stderr


# --- hints, progress, roster, doctor ---------------------------------------------------------------------


def test_the_last_hint_says_it_is_the_last_each_time(mini_course, capsys):
    outs = []
    for _ in range(3):
        assert cli.main(["--root", str(mini_course), "hint", "L01", "add"]) == 0
        outs.append(capsys.readouterr().out)
    assert "hint 1 of 2\n" in outs[0] and "the last" not in outs[0] and "again for the next one" in outs[0]
    for out in outs[1:]:
        assert "hint 2 of 2, the last one" in out and "return a + b" in out and "the last hint of this stage" in out


def test_a_corrupt_progress_file_is_kept_aside_with_one_notice(mini_course, capsys):
    state = State(mini_course)
    state.path.parent.mkdir()
    state.path.write_text("{ half a file")
    assert cli.main(["--root", str(mini_course), "hint", "L01", "add"]) == 0
    err = capsys.readouterr().err
    kept = state.path.with_name("progress.json.corrupt")
    assert kept.read_text() == "{ half a file", "the old file is kept, not lost"
    (notice,) = [line for line in err.splitlines() if "progress.json" in line]
    assert "kept it as progress.json.corrupt" in notice
    assert json.loads(state.path.read_text())["hints"] == {"L01/add": 1}


def test_the_roster_reads_a_corrupt_progress_file_without_touching_it(tmp_path):
    learner = tmp_path / "workshop" / "bob" / ".llmfs"
    learner.mkdir(parents=True)
    (learner / "progress.json").write_text("[]")
    (row,) = collect(tmp_path / "workshop", LESSONS).rows
    assert "corrupt" in row.note and (learner / "progress.json").read_text() == "[]"


def test_roster_of_an_empty_folder_says_what_it_expected(tmp_path):
    console = Console(record=True, width=200, color_system=None)
    (tmp_path / "empty").mkdir()
    assert roster_command(tmp_path / "empty", lessons=LESSONS, console=console) == 0
    text = console.export_text()
    assert "No learners" in text and "progress.json" in text and "llmfs grade" in text


def test_doctor_lists_torch_once():
    assert [check.name for check in run_checks()].count("torch") == 1


# --- 80 columns ------------------------------------------------------------------------------------------


def _at_80(renderable) -> str:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_the_grade_and_roster_tables_stay_readable_at_80_columns(tmp_path):
    lessons = [{"lesson": l.id, "score": 1.5, "max_score": l.points, "passed": 1, "total": len(l.specs)} for l in LESSONS]
    graded = [{"learner": "Zoë Example-Longname", "score": 15.0, "max_score": 100.0, "lessons": lessons, "errors": []}]
    text = _at_80(cli.grade_table(graded, LESSONS, "Grades (out)", 80))
    assert "…" not in text and "Zoë" in text and "15/100" in text and "0/10" in text

    learner = tmp_path / "workshop" / "alice" / ".llmfs"
    learner.mkdir(parents=True)
    entries = {l.id: {"passed": len(l.specs), "total": len(l.specs)} for l in LESSONS[:4]}
    (learner / "progress.json").write_text(json.dumps({"lessons": entries, "hints": {}}))
    text = _at_80(render_table(collect(tmp_path / "workshop", LESSONS), 80))
    assert "…" not in text and "✓✓✓✓······" in text and LESSONS[-1].id in text
