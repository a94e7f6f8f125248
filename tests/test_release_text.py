"""The learner release is self-consistent: every command its Markdown and hints tell a learner to run exists there.

``llmfs release`` writes the learner version of this course into a temporary folder. From every Markdown file
it ships (the README, the lesson READMEs and notebooks, ``data/README.md``) and every hint of every manifest,
the commands are extracted: the lines of fenced code blocks and the inline code spans (``llmfs ...``,
``python -m ...``, ``pytest ...``, also after ``# or:`` in a comment), and the bare commands of the hints.
Each must work *in the release*:

- ``llmfs X ...`` (or ``python -m grader X ...``): ``python -m grader X --help`` runs there (``bench T`` and
  ``chat`` included, so a sub-command that refuses learners is caught), every ``--option`` it is given is in
  that help, every lesson id it names exists, and every course path it names (``data/...``) is there;
- ``python -m M ...``: a course module ``M`` is a file of the release with a ``__main__`` block; given options,
  ``python -m M --help`` runs there and lists each of them; a module outside the course (``venv``) must be
  importable, and ``solutions``, ``tests`` and the rest of the instructors' folders are not outside the course;
- ``pytest PATH ...``: every path exists in the release.

Instructor-only text stays in the course, marked ``<!-- instructors -->`` ... ``<!-- /instructors -->``; the
release leaves it out (``learner_markdown``).
"""
from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.grading.release import ReleaseError, learner_markdown, release
from grader.lessons import COURSE_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COMMAND_START = re.compile(r"(?<![\w./-])(llmfs|python -m|pytest)(?![\w-])")
# Where a command ends inside a line or a code span (outside quotes): a shell comment, a chain, a pipe, the " / "
# between alternatives, the end of a parenthesis or a sentence.
COMMAND_END = re.compile(r"\s+#|\s*&&|\s*;|\s*\|(?!\|)|\s+/\s|\)|,\s|\.(?:\s|$)|`")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")


@dataclass(frozen=True)
class Command:
    where: str  # "exercises/l01/README.md:9" or "exercises/l09/lesson.toml: hint of stage ..."
    text: str

    @property
    def words(self) -> list[str]:
        try:
            return shlex.split(self.text)
        except ValueError:  # an apostrophe of the prose after it: words as they stand
            return self.text.split()


def commands_in(text: str) -> list[str]:
    """The commands that start in ``text`` (a code line, a code span or a hint), each cut where it ends."""
    found = []
    for start in COMMAND_START.finditer(text):
        i, quote = start.start(), None
        while i < len(text):
            c = text[i]
            if quote:
                quote = None if c == quote else quote
            elif c in "\"'" and (i == 0 or text[i - 1] in " ="):  # a quote opens only where a word starts
                quote = c
            elif COMMAND_END.match(text, i):
                break
            i += 1
        found.append(text[start.start() : i].strip())
    return found


def markdown_commands(path: Path, name: str) -> list[Command]:
    """Commands in the fenced code blocks (line by line) and the inline code spans (which may wrap) of a file."""
    found, fenced, paragraph = [], False, []  # paragraph: (line number, text) of the prose lines so far

    def prose_done() -> None:
        starts, text = [], ""
        for _, line in paragraph:  # the paragraph as one line, so that a code span may wrap
            starts.append(len(text))
            text += line + " "
        for span in INLINE_CODE.finditer(text):
            number = paragraph[max(i for i, start in enumerate(starts) if start <= span.start())][0]
            found.extend(Command(f"{name}:{number}", c) for c in commands_in(span.group(2)))
        paragraph.clear()

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            prose_done()
            fenced = not fenced
        elif fenced:
            found += [Command(f"{name}:{number}", c) for c in commands_in(line)]
        elif line.strip():
            paragraph.append((number, line.strip()))
        else:
            prose_done()
    prose_done()
    return found


def hint_commands(manifest: Path, name: str) -> list[Command]:
    """Commands in the hints of a lesson manifest (its code spans, or the bare text when it has none)."""
    found = []
    for stage in tomllib.loads(manifest.read_text(encoding="utf-8")).get("stages", []):
        for hint in stage.get("hints", []):
            pieces = [m.group(2) for m in INLINE_CODE.finditer(hint)] or [hint]
            found += [Command(f"{name}: a hint of stage {stage.get('name')!r}", c) for p in pieces for c in commands_in(p)]
    return found


def run_all(invocations: list[tuple[str, ...]], cwd: Path) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """Run each argument list with this Python in ``cwd``, all at once (each is a ``--help``: it does no work)."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200", "NO_COLOR": "1"}
    started = {
        args: subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
        for args in dict.fromkeys(invocations)
    }
    done = {}
    for args, process in started.items():
        out, _ = process.communicate(timeout=300)
        done[args] = subprocess.CompletedProcess(process.args, process.returncode, out, "")
    return done


def options(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words if w.startswith("--") and w != "--help"]


@pytest.fixture(scope="module")
def learner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release(tmp_path_factory.mktemp("release") / "learner", COURSE_ROOT)


@pytest.fixture(scope="module")
def shipped_commands(learner: Path) -> list[Command]:
    commands = []
    for path in sorted(learner.rglob("*.md")):
        commands += markdown_commands(path, str(path.relative_to(learner)))
    for manifest in sorted(learner.glob("exercises/l*/lesson.toml")):
        commands += hint_commands(manifest, str(manifest.relative_to(learner)))
    return commands


def test_the_extractor_finds_commands_where_the_course_writes_them():
    line = 'pytest exercises/l01 -x        # or: llmfs status / llmfs hint L01'
    assert commands_in(line) == ["pytest exercises/l01 -x", "llmfs status", "llmfs hint L01"]
    line = 'python -m exercises.l07.gpt --prompt "Hello, I\'m a model," --tokens 20   # greedy'
    assert commands_in(line) == ['python -m exercises.l07.gpt --prompt "Hello, I\'m a model," --tokens 20']
    assert commands_in("python -m venv .venv && . .venv/bin/activate") == ["python -m venv .venv"]
    assert commands_in("Run it yourself: python -m exercises.l09.sample --prompt 'ROMEO:' --top-k 50.") == [
        "python -m exercises.l09.sample --prompt 'ROMEO:' --top-k 50"
    ]
    assert commands_in('work = Path(tempfile.mkdtemp(prefix="llmfs-l08-"))') == []


def test_the_release_ships_the_commands_it_mentions(learner: Path, shipped_commands: list[Command]):
    assert len(shipped_commands) > 40, "the extractor should find the course's commands"
    lessons = {p.parent.name.upper() for p in learner.glob("exercises/l*/lesson.toml")}
    course_folders = {p.name for p in COURSE_ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
    problems: list[str] = []
    helps: dict[tuple[str, ...], list[tuple[Command, list[str]]]] = {}

    def named_paths(command: Command, words: list[str]) -> None:
        for word in words:
            if re.fullmatch(r"L\d\d", word) and word not in lessons:
                problems.append(f"{command.where}: `{command.text}` names lesson {word}, which the release has not")
            top = word.split("/", 1)[0]
            if "/" in word and top in course_folders and top != "runs" and not (learner / word).exists():
                problems.append(f"{command.where}: `{command.text}` names {word}, which the release has not")

    for command in shipped_commands:
        words = command.words
        if words[:1] == ["llmfs"] or words[:3] == ["python", "-m", "grader"]:
            args = words[1:] if words[0] == "llmfs" else words[3:]
            if args[:1] == ["--root"]:
                args = args[2:]
            sub = tuple(args[:2] if args[:1] == ["bench"] else args[:1])
            helps.setdefault(("-m", "grader", *sub, "--help"), []).append((command, options(args)))
            named_paths(command, args)
        elif words[:2] == ["python", "-m"] and len(words) > 2:
            module, args = words[2], words[3:]
            top = module.split(".")[0]
            if top in course_folders or (learner / top).exists():
                base = learner / Path(*module.split("."))
                source = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__main__.py"
                if not source.is_file():
                    problems.append(f"{command.where}: `{command.text}`: the release has no module {module}")
                    continue
                text = source.read_text(encoding="utf-8")
                if source.name != "__main__.py" and '__name__ == "__main__"' not in text:
                    problems.append(f"{command.where}: `{command.text}`: {module} is not a program")
                elif args and not re.search(r"argparse|ArgumentParser|\bargv\b", text):
                    problems.append(f"{command.where}: `{command.text}`: {module} takes no arguments")
                elif args:
                    helps.setdefault(("-m", module, "--help"), []).append((command, options(args)))
                named_paths(command, args)
            elif importlib.util.find_spec(top) is None:
                problems.append(f"{command.where}: `{command.text}`: no module {module} to run")
        elif words[:1] == ["pytest"]:
            for word in words[1:]:
                if not word.startswith("-") and not (learner / word.split("::")[0]).exists():
                    problems.append(f"{command.where}: `{command.text}`: the release has no {word}")

    for args, done in run_all(list(helps), learner).items():
        for command, wanted in helps[args]:
            if done.returncode != 0:
                last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
                problems.append(f"{command.where}: `{command.text}`: `python {' '.join(args)}` fails there: {last}")
                continue
            missing = [o for o in wanted if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", done.stdout)]
            if args[:2] == ("-m", "grader"):
                missing = [o for o in missing if o != "--root"]
            if missing:
                problems.append(f"{command.where}: `{command.text}`: no option {', '.join(missing)} there")
    assert not problems, "commands the learner release mentions but cannot run:\n" + "\n".join(problems)


def test_instructor_only_text_stays_out_of_the_release(learner: Path):
    for path in learner.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert "<!-- instructors -->" not in text and "<!-- /instructors -->" not in text, path
        assert "python -m solutions" not in text and "--reference" not in text, f"{path}: instructors' commands"


def test_learner_markdown_drops_marked_lines_and_spans_and_refuses_a_lone_marker(tmp_path: Path):
    text = (
        "Train it:\n<!-- instructors -->\n```\npython -m solutions.l08.train\n```\n<!-- /instructors -->\n"
        "Done.<!-- instructors --> Instructors: `llmfs bench train`.<!-- /instructors --> Next.\n"
    )
    assert learner_markdown(text) == "Train it:\nDone. Next.\n"
    for bad, why in (("a <!-- instructors --> b", "never closed"), ("a <!-- /instructors -->", "without")):
        with pytest.raises(ReleaseError, match=why):
            learner_markdown(bad, "README.md")
