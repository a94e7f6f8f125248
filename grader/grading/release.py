"""The learner version of the course: no ``solutions/``, no mutants, no instructor-only material.

``llmfs release OUT`` copies the files git tracks (so nothing local leaks), leaves out what only instructors
need, writes a learner README and points ``pytest`` at the lesson specs (every one red until solved).
Markdown the learners get keeps no text meant for instructors: a part marked ``<!-- instructors -->`` ...
``<!-- /instructors -->`` (whole lines, or a span inside a line) is dropped from it, so a lesson README can name
``python -m solutions...`` or ``llmfs bench`` for instructors without sending learners to what they lack.
With ``--branch NAME`` the release is also committed as an orphan branch of the course repository, so its
history holds no trace of the solutions; an existing branch is replaced only with ``--force``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ..learner.output import writable_folder
from ..lessons import COURSE_ROOT, load_lessons
from ..sync import BEGIN, out_of_sync

# Paths (relative to the course root) that never reach learners.
INSTRUCTOR_ONLY = ("solutions", "tests", ".ci", "CONTRIBUTING.md", "grader/bench")


# Markdown between these comments is for instructors only (HTML comments: rendered as nothing in the course).
INSTRUCTORS_BEGIN = "<!-- instructors -->"
INSTRUCTORS_END = "<!-- /instructors -->"
_MARK = re.compile(re.escape(INSTRUCTORS_BEGIN) + "|" + re.escape(INSTRUCTORS_END))


class ReleaseError(ValueError):
    pass


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks (relative paths), or every file outside caches when ``root`` is not a repository."""
    listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True)
    if listing.returncode == 0:
        return [Path(name) for name in listing.stdout.decode().split("\0") if name]
    skip = {"__pycache__", ".git", ".llmfs", ".pytest_cache", ".hypothesis"}
    return [p.relative_to(root) for p in root.rglob("*") if p.is_file() and not skip & set(p.relative_to(root).parts)]


def _instructor_only(path: Path) -> bool:
    text = path.as_posix()
    return any(text == item or text.startswith(item + "/") for item in INSTRUCTOR_ONLY)


def learner_markdown(text: str, name: str = "the text") -> str:
    """``text`` (Markdown) without its instructor-only parts.

    A part starts at ``<!-- instructors -->`` and ends at the next ``<!-- /instructors -->``. When both markers
    stand on lines of their own, those whole lines go (markers included); otherwise exactly the span from the
    first marker to the end of the second goes, so an inline part carries its own leading space
    (``done.<!-- instructors --> Instructors: run X.<!-- /instructors -->``). Parts do not nest; a marker without
    its partner is a ``ReleaseError`` naming ``name`` and the line.
    """
    out: list[str] = []
    position = 0
    begin = None
    for mark in _MARK.finditer(text):
        line_no = text.count("\n", 0, mark.start()) + 1
        if mark.group() == INSTRUCTORS_BEGIN:
            if begin is not None:
                raise ReleaseError(f"{name}, line {line_no}: {INSTRUCTORS_BEGIN} inside another instructors' part")
            begin = mark
            continue
        if begin is None:
            raise ReleaseError(f"{name}, line {line_no}: {INSTRUCTORS_END} without a {INSTRUCTORS_BEGIN} before it")
        start, end = begin.start(), mark.end()
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end == -1 else line_end
        if not text[line_start:start].strip() and not text[end:line_end].strip():  # whole lines
            start, end = line_start, min(line_end + 1, len(text))
        out.append(text[position:start])
        position = end
        begin = None
    if begin is not None:
        line_no = text.count("\n", 0, begin.start()) + 1
        raise ReleaseError(f"{name}, line {line_no}: {INSTRUCTORS_BEGIN} is never closed by {INSTRUCTORS_END}")
    out.append(text[position:])
    return "".join(out)


def learner_readme(root: Path) -> str:
    rows = "\n".join(f"| {lesson.id} | {lesson.title} | {lesson.summary} |" for lesson in load_lessons(root))
    return f"""# LLM From Scratch

Build a complete GPT yourself, from a byte-pair-encoding tokenizer upwards, **one green spec at a time**.
Every lesson is a package of stubs and specs in `exercises/`: run the specs, read the first red one and its
hint, fill in the stub, watch it turn green. Everything runs on a laptop CPU, offline.

| Lesson | Title | What you build |
| --- | --- | --- |
{rows}

## Set up

```bash
pip install -e ".[dev]"
```

(Python 3.10 or newer; a virtual environment is a good idea: `python -m venv .venv && . .venv/bin/activate`.)

## Work through a lesson

```bash
pytest exercises/l01 -x       # the first red spec of lesson 1, with a one-line message
llmfs status                  # every lesson: specs passed, points, progress, what to do next
llmfs next                    # the first red spec of the earliest unfinished lesson and its first hint
llmfs hint L01                # the next hint for the stage you are on (one step per call)
llmfs check L01               # the lesson's specs in stage order, stopping at the first red one
llmfs watch L01               # re-run the lesson every time you save a file
llmfs doctor                  # is everything installed? (paste this into a bug report)
```

1. Read `exercises/l01/README.md`: the idea, the stages, what each function must do.
2. Fill in the stubs in `exercises/l01/*.py`: replace each `raise NotImplementedError(...)` line.
3. Run the specs again; go on until the lesson is green, then move on. Later lessons import your earlier
   ones, so what you build is what you use.

Running `pytest` with no arguments runs every lesson's specs: all red at the start, by design.
"""


def release(out: Path, root: Path = COURSE_ROOT, branch: str | None = None, force: bool = False) -> Path:
    """Write the learner version of the course at ``root`` into ``out`` (which must not exist or be empty).

    Every argument is checked before anything is written: ``out`` a new or empty folder, ``root`` an instructor
    copy in sync, and ``branch`` a valid name that does not exist yet (``force`` replaces it).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file: give a new folder for the release")
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty: choose a new folder for the release")
    if not (root / "solutions").is_dir():
        raise ReleaseError(f"{root} has no solutions/: it already is a learner version")
    stale = out_of_sync(root)
    if stale:
        raise ReleaseError(f"exercises/ is out of sync with solutions/ ({', '.join(stale)}): run llmfs sync first")
    if branch:
        _check_branch(root, branch, force)
    shipped = [p for p in tracked_files(root) if not _instructor_only(p) and (root / p).is_file()]
    # Markdown is rewritten for learners; a badly marked file stops the release before anything is written.
    markdown = {
        p: learner_markdown((root / p).read_text(encoding="utf-8"), str(p)) for p in shipped if p.suffix == ".md"
    }
    writable_folder(out, "the release folder")
    for relative in shipped:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
        if relative in markdown:
            target.write_text(markdown[relative], encoding="utf-8")
    (out / "README.md").write_text(learner_readme(root), encoding="utf-8")
    _point_pytest_at_exercises(out / "pyproject.toml")
    exercises = (out / "exercises").rglob("*.py")
    leaked = [str(p.relative_to(out)) for p in exercises if BEGIN in p.read_text(encoding="utf-8", errors="replace")]
    if leaked:
        raise ReleaseError(f"solution regions would leak into the release: {', '.join(leaked)}")
    if branch:
        _commit_as_branch(out, root, branch)
    return out


def _point_pytest_at_exercises(pyproject: Path) -> None:
    """In the learner version, plain ``pytest`` runs the lesson specs."""
    text = pyproject.read_text(encoding="utf-8")
    text, count = re.subn(r'testpaths = \[[^\]]*\]', 'testpaths = ["exercises"]', text)
    if count != 1:
        raise ReleaseError(f"cannot find testpaths in {pyproject}")
    pyproject.write_text(text, encoding="utf-8")


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "LLM From Scratch", "GIT_AUTHOR_EMAIL": "course@localhost",
           "GIT_COMMITTER_NAME": "LLM From Scratch", "GIT_COMMITTER_EMAIL": "course@localhost"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _check_branch(root: Path, branch: str, force: bool) -> None:
    """``branch`` can be written into the course repository at ``root``: a valid name, not checked out there,
    and new unless ``force``."""
    try:
        _git("check-ref-format", "--branch", branch, cwd=root)
    except ReleaseError:
        raise ReleaseError(f"--branch {branch!r} is not a valid git branch name") from None
    if subprocess.run(["git", "-C", str(root), "rev-parse", "--git-dir"], capture_output=True).returncode != 0:
        raise ReleaseError(f"--branch needs a git repository, and {root} is not one")
    if _git("branch", "--list", "--format=%(HEAD)", branch, cwd=root) == "*":
        raise ReleaseError(f"branch {branch} is checked out in {root}: choose another --branch")
    if _git("branch", "--list", branch, cwd=root) and not force:
        raise ReleaseError(f"branch {branch} already exists in {root}: choose another --branch, or add --force to replace it")


def _commit_as_branch(out: Path, root: Path, branch: str) -> None:
    """Commit the release in ``out`` as its own repository, then fetch it into the course as ``branch``."""
    _git("init", "-q", "-b", branch, cwd=out)
    _git("add", "-A", cwd=out)
    _git("commit", "-q", "-m", "LLM From Scratch: learner version", cwd=out)
    _git("fetch", "-q", str(out.resolve()), f"+{branch}:refs/heads/{branch}", cwd=root)
