"""The learner's tools (check, watch, doctor) and the instructor's release, on the toy course."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grader import cli
from grader.doctor import run_checks
from grader.lessons import COURSE_ROOT
from grader.grading.release import ReleaseError, release


def _git_course(root: Path) -> Path:
    """The toy course as a git repository with a pyproject like the real one."""
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (root / "CONTRIBUTING.md").write_text("instructors only\n")
    (root / "scratch.txt").write_text("local, untracked: must not leak\n")
    git = ["git", "-C", str(root), "-c", "user.email=i@example.org", "-c", "user.name=Instructor"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "exercises", "solutions", "tests", "pyproject.toml", "CONTRIBUTING.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "course"], check=True)
    return root


def test_release_has_no_solutions_and_every_spec_is_red(mini_course_two: Path, tmp_path: Path, capsys):
    course = _git_course(mini_course_two)
    out = release(tmp_path / "learner", course, branch="learners")
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert not [f for f in files if f.startswith(("solutions/", "tests/"))], "no solutions, mutants or course tests"
    assert "CONTRIBUTING.md" not in files and "scratch.txt" not in files
    assert "exercises/l01/toy.py" in files and "exercises/l02/test_double.py" in files
    assert "BEGIN SOLUTION" not in (out / "exercises" / "l01" / "toy.py").read_text()
    assert "testpaths = [\"exercises\"]" in (out / "pyproject.toml").read_text()
    assert "llmfs status" in (out / "README.md").read_text()

    branch_files = subprocess.run(["git", "-C", str(course), "ls-tree", "-r", "--name-only", "learners"], capture_output=True, text=True, check=True).stdout
    assert "solutions/" not in branch_files and "exercises/l01/toy.py" in branch_files
    history = subprocess.run(["git", "-C", str(course), "rev-list", "learners"], capture_output=True, text=True, check=True).stdout.split()
    assert len(history) == 1, "an orphan branch: its history holds no solutions"

    done = subprocess.run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=out, capture_output=True, text=True)
    assert "5 failed" in done.stdout and "passed" not in done.stdout.splitlines()[-1]
    assert cli.main(["--root", str(out), "selfcheck"]) == 2, "instructor commands refuse politely in the learner version"
    assert "for instructors" in capsys.readouterr().out


def test_release_refuses_a_used_folder_and_a_learner_copy(mini_course_two: Path, tmp_path: Path):
    course = _git_course(mini_course_two)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(ReleaseError, match="not empty"):
        release(tmp_path / "busy", course)
    learner = release(tmp_path / "learner", course)
    with pytest.raises(ReleaseError, match="already is a learner version"):
        release(tmp_path / "again", learner)


def test_check_stops_at_the_first_red_spec_with_its_hint(mini_course_two: Path, capsys):
    stub = mini_course_two / "exercises" / "l01" / "toy.py"
    stub.write_text(stub.read_text().replace("raise NotImplementedError('L01 add()", "return a + b\n    raise NotImplementedError('L01 add()"))
    assert cli.main(["--root", str(mini_course_two), "check", "L01"]) == 1
    out = capsys.readouterr().out
    assert "✓ 1. Adding" in out and "✗ 2. Counting" in out
    assert "Counter.bump() is not implemented" in out and "Keep state on self." in out


def test_watch_runs_the_current_lesson(mini_course_two: Path, capsys):
    assert cli.main(["--root", str(mini_course_two), "watch", "--once"]) == 1
    out = capsys.readouterr().out
    assert "L01 Toy lesson" in out and "0/3 specs" in out


def test_hints_climb_the_ladder_and_are_recorded(mini_course_two: Path, capsys):
    for _ in range(3):
        assert cli.main(["--root", str(mini_course_two), "hint", "L01", "add"]) == 0
    out = capsys.readouterr().out
    assert "hint 1 of 2" in out and "Think plus." in out and "hint 2 of 2" in out and "return a + b" in out
    assert cli.main(["--root", str(mini_course_two), "hint", "L01", "nope"]) == 2
    assert "its stages are: add, counter" in capsys.readouterr().out


def test_doctor_reports_every_dependency():
    checks = {check.name: check for check in run_checks()}
    assert checks["python"].ok and checks["torch"].ok
    for name in ("numpy", "pytest", "pytest-timeout", "matplotlib", "nbgrader", "regex", "rich", "tiktoken", "transformers", "hypothesis"):
        assert checks[name].ok, f"{name}: {checks[name].detail}"



# --- llmfs chat (L10's terminal chat) on the course's shipped chat model ---------------------------------

CHAT_MODEL = str(COURSE_ROOT / "data" / "checkpoints" / "shakespeare-chat")


def _typed(lines: list[str]):
    """A stand-in for input(): the lines, then EOF (Ctrl-D)."""
    pending = iter(lines)

    def read(prompt: str = "") -> str:
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    return read


def test_chat_answers_one_prompt(capsys):
    argv = ["chat", CHAT_MODEL, "--reference", "--prompt", "Greet Juliet.", "--max-new-tokens", "16"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == "Good morrow, Juliet!\n", "the shipped chat model greets in the wanted format"


def test_chat_keeps_the_conversation(monkeypatch, capsys):
    from solutions.l10 import chat

    conversations = []
    render = chat.prompt_ids
    monkeypatch.setattr(chat, "prompt_ids", lambda model, tok, messages, n: conversations.append(list(messages)) or render(model, tok, messages, n))
    monkeypatch.setattr("builtins.input", _typed(["Greet Romeo.", "", "Repeat after me: crown sword", "/reset", "Greet Juliet."]))
    assert cli.main(["chat", CHAT_MODEL, "--reference", "--max-new-tokens", "16"]) == 0
    out = capsys.readouterr().out
    assert out.count("bot> ") == 3, f"three questions, three answers (an empty line asks nothing):\n{out}"
    assert [len(messages) for messages in conversations] == [1, 3, 1], "turn 2 sees turn 1; /reset starts over"
    assert "Good morrow, Romeo!" in out and "Good morrow, Juliet!" in out


def test_chat_on_stubs_and_bad_checkpoints_says_what_to_do(tmp_path, capsys):
    assert cli.main(["chat", CHAT_MODEL, "--prompt", "Greet Romeo."]) == 1, "the learner's stubs: not implemented"
    err = capsys.readouterr().err
    assert "is not implemented yet" in err and "llmfs chat --reference" in err and "Traceback" not in err

    assert cli.main(["chat", str(tmp_path / "nowhere"), "--reference", "--prompt", "hi"]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04 half a zip")
    assert cli.main(["chat", str(tmp_path), "--reference", "--prompt", "hi"]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
