"""``llmfs nbgrader OUT``: the course as an nbgrader course directory, one assignment per lesson.

```
OUT/nbgrader_config.py             course id, a long enough cell timeout; the gradebook is OUT/gradebook.db
OUT/source/l03/l03.ipynb           the lesson's README as markdown; one solution cell per module (the reference,
                                   with nbgrader's BEGIN/END SOLUTION markers); one locked autograder cell per
                                   stage, worth the stage's points from the manifest
OUT/source/l03/llmfs_nbgrader.py   this file, the notebook's helper (the kernel side below)
OUT/source/l03/course/exercises/   the lesson's pristine specs, the conftest and spec helpers, and the
                                   reference of the lessons it builds on: each lesson is graded on its own
OUT/source/l03/course/data/        the course's data, for lessons whose specs read it
```

How a notebook is graded. A solution cell starts with ``%%module l03/attention.py``: running it writes the
cell into ``course/exercises/l03/attention.py`` and imports it (its names land in the notebook). A test cell
calls ``check_stage(...)``, which runs the lesson's spec files, unchanged, with pytest in a child process,
and returns the stage's points times the share of its specs that passed; nbgrader reads that number as
partial credit (the same split as ``llmfs grade``: a stage's points are shared equally by its specs).

Why pytest on the spec files rather than the spec source pasted into the notebook: the specs use fixtures
(``data_dir``, ``tmp_path``), parametrization, hypothesis, relative imports of the lesson and of
``spec_helpers``, and the conftest's one-line report for stubs. Run as they are, they give the verdict that
``pytest exercises/l03`` and ``llmfs grade`` give, and nothing has to be rewritten (and kept in step). A
child process starts clean, so what the kernel did (cells run out of order, a monkeypatch) cannot change
the verdict, and a timeout stops a submission that loops. (nbgrader runs submissions without a sandbox;
``llmfs grade`` is the hardened path.)

The helper is this very file, copied: the kernel side uses only the standard library, IPython and pytest,
and the export functions below it import the grader lazily.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HELPER = "llmfs_nbgrader"  # the module name of this file inside an assignment
COURSE = Path(__file__).resolve().parent / "course"  # inside an assignment: the specs and the reference of earlier lessons
RESULTS_VARIABLE = "LLMFS_NBGRADER_RESULTS"
SPEC_TIMEOUT = 900  # seconds for one run of a lesson's specs

# --- inside an assignment: the notebook's kernel ----------------------------------------------------------

_runs: dict[str, dict[str, tuple[str, str]]] = {}  # fingerprint of the lesson's modules -> spec -> (outcome, message)


def setup() -> None:
    """The notebook's first cell: put ``course/`` on the path and register the ``%%module`` cell magic."""
    from IPython import get_ipython

    if sys.path[:1] != [str(COURSE)]:
        sys.path.insert(0, str(COURSE))
    shell = get_ipython()
    if shell is not None:
        shell.register_magic_function(module, magic_kind="cell", magic_name="module")


def module(line: str, cell: str) -> None:
    """``%%module l03/attention.py``: write the cell into that module of ``course/exercises`` and import it.

    The module's public names land in the notebook, so the next cells can try them out.
    """
    from IPython import get_ipython

    relative = line.strip()
    if not re.fullmatch(r"l\d\d/\w+\.py", relative):
        raise ValueError(f"%%module takes a lesson module such as l03/attention.py, not {relative!r}")
    (COURSE / "exercises" / relative).write_text(cell, encoding="utf-8")
    package = relative.split("/")[0]
    for name in [n for n in sys.modules if n == f"exercises.{package}" or n.startswith(f"exercises.{package}.")]:
        del sys.modules[name]  # the lesson's modules are re-read from the files the cells wrote
    importlib.invalidate_caches()
    loaded = importlib.import_module(f"exercises.{package}.{relative.split('/')[1][:-3]}")
    shell = get_ipython()
    if shell is not None:
        shell.user_ns.update({k: v for k, v in vars(loaded).items() if not k.startswith("_")})


def _fingerprint(package: str) -> str:
    digest = hashlib.sha256()
    for path in sorted((COURSE / "exercises" / package).glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _run_specs(package: str) -> dict[str, tuple[str, str]]:
    """Every spec of the lesson: (outcome, first line of its message); one child run per version of the code."""
    key = _fingerprint(package)
    if key in _runs:
        return _runs[key]
    with tempfile.TemporaryDirectory(prefix="llmfs-nbgrader-") as scratch:
        results = Path(scratch) / "results.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update({
            RESULTS_VARIABLE: str(results), "PYTHONPATH": str(Path(__file__).resolve().parent),
            "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        })  # fmt: skip
        command = [
            sys.executable, "-m", "pytest", f"exercises/{package}", "-q", "-p", "no:cacheprovider", "-p", HELPER,
            "-o", "addopts=", "--rootdir", str(COURSE),
        ]  # fmt: skip
        outcomes: dict[str, tuple[str, str]] = {}
        try:
            run = subprocess.run(command, cwd=COURSE, env=env, capture_output=True, text=True, timeout=SPEC_TIMEOUT)
            last_words = (run.stdout + run.stderr).strip().splitlines()[-1:] or ["no output"]
            outcomes["*"] = ("failed", f"did not run (pytest said: {last_words[0][:200]})")
        except subprocess.TimeoutExpired:
            outcomes["*"] = ("failed", f"did not finish within {SPEC_TIMEOUT} s (an endless loop?)")
        rank = {"passed": 0, "skipped": 1, "failed": 2}
        for line in results.read_text(encoding="utf-8").splitlines() if results.exists() else []:
            record = json.loads(line)
            previous = outcomes.get(record["spec"])
            if previous is None or rank[record["outcome"]] > rank[previous[0]]:
                outcomes[record["spec"]] = (record["outcome"], record["message"])
    _runs[key] = outcomes
    return outcomes


def check_stage(lesson: str, stage: str, points: float, specs: list[str]) -> float:
    """An autograder cell: run the lesson's specs (once per version of the code), print this stage's, and
    return ``points`` times the share of them that passed (nbgrader's partial credit)."""
    package = f"l{int(lesson[1:]):02d}"
    outcomes = _run_specs(package)
    passed = 0
    for spec in specs:
        module_error = outcomes.get(f"{spec.split('::')[0]}::*")  # the spec file did not even import
        outcome, message = outcomes.get(spec) or module_error or outcomes["*"]
        passed += outcome == "passed"
        print(f"{'✓' if outcome == 'passed' else '✗'} {spec}" + ("" if outcome == "passed" else f"\n    {message}"))
    print(f"{lesson} {stage}: {passed}/{len(specs)} specs passed")
    return round(points * passed / len(specs), 6)


# pytest hooks, active in the child run only (``-p llmfs_nbgrader``): one JSON line per spec and phase.


def _record(spec: str, outcome: str, message: str) -> None:
    with open(os.environ[RESULTS_VARIABLE], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"spec": spec, "outcome": outcome, "message": message}) + "\n")


def pytest_runtest_logreport(report) -> None:
    if RESULTS_VARIABLE not in os.environ or (report.when != "call" and report.passed):
        return
    path, _, name = report.nodeid.partition("::")
    spec = f"{path.rsplit('/', 1)[-1]}::{name.split('[', 1)[0]}"
    outcome = "passed" if report.passed else "skipped" if report.skipped else "failed"
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    _record(spec, outcome, (text.strip().splitlines() or [""])[0][:300])


def pytest_collectreport(report) -> None:
    if RESULTS_VARIABLE in os.environ and report.failed:
        lines = str(report.longrepr).strip().splitlines()
        module = report.nodeid.rsplit("/", 1)[-1]
        _record(f"{module}::*", "failed", f"collection error: {lines[-1] if lines else 'unknown'}")


# --- the export (instructors) -----------------------------------------------------------------------------

NBGRADER_CONFIG = '''\
"""nbgrader's configuration for the course exported by `llmfs nbgrader` (the gradebook: gradebook.db here)."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "llm-from-scratch"
# A test cell runs a whole lesson's specs in a child process the first time: give it time.
c.Execute.timeout = 900
# What replaces each solution region in the student version (the specs then say "NOT IMPLEMENTED: YOUR CODE HERE").
c.ClearSolutions.code_stub = {"python": '# YOUR CODE HERE\\nraise NotImplementedError("YOUR CODE HERE")'}
'''


def _metadata(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False, points: float | None = None) -> dict:
    """nbgrader's cell metadata (schema 3)."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _module_order(folder: Path, modules: tuple[str, ...]) -> list[str]:
    """The lesson's modules, each after the ones of the same lesson it imports (``from ..sampling import``)."""
    imports = {m: set(re.findall(r"^from \.(\w+) import", (folder / m).read_text(encoding="utf-8"), re.M)) for m in modules}
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in ordered or name in path:
            return
        for stem in sorted(imports[name]):
            if f"{stem}.py" in imports:
                visit(f"{stem}.py", (*path, name))
        ordered.append(name)

    for name in modules:
        visit(name)
    return ordered


def _lesson_imports(folders: list[Path]) -> set[str]:
    """Lesson packages named by ``from ..lNN`` in the Python files of ``folders``."""
    found: set[str] = set()
    for folder in folders:
        for path in folder.glob("*.py"):
            found |= set(re.findall(r"^\s*from \.\.(l\d\d)\b", path.read_text(encoding="utf-8"), re.M))
    return found


def builds_on(lesson, root: Path) -> list[str]:
    """The lesson packages a lesson needs, directly or not: its manifest's ``depends`` and what its code and
    specs import."""
    from ..lessons import load_lessons

    lessons = {other.package: other for other in load_lessons(root)}
    package_of = {other.id: other.package for other in lessons.values()}
    needed: set[str] = set()
    todo = [lesson.package]
    while todo:
        package = todo.pop()
        depends = {package_of[d] for d in lessons[package].depends if d in package_of} if package in lessons else set()
        imported = _lesson_imports([root / "solutions" / package, root / "exercises" / package])
        for dep in (depends | imported) - needed - {lesson.package}:
            needed.add(dep)
            todo.append(dep)
    return sorted(needed)


def _uses_data(folder: Path) -> bool:
    """Whether a lesson's files read the course's data (the ``data_dir`` fixture, ``"data" / ...``, ``data/...``)."""
    pattern = re.compile(r"""\bdata_dir\b|["']data["'/]""")
    return any(pattern.search(p.read_text(encoding="utf-8")) for p in folder.glob("*.py"))


def _markdown_cells(readme: str) -> list[str]:
    """The README cut at its level-2 headings: one markdown cell each."""
    parts = re.split(r"(?m)^(?=## )", readme.strip())
    return [part.strip() for part in parts if part.strip()]


def lesson_notebook(lesson, root: Path):
    """The nbgrader source notebook of one lesson (solutions included)."""
    import nbformat

    v4 = nbformat.v4
    source, exercises = root / "solutions" / lesson.package, root / "exercises" / lesson.package
    package = lesson.package

    def locked_markdown(text: str, grade_id: str):
        return v4.new_markdown_cell(text, metadata=_metadata(f"{package}_{grade_id}", locked=True))

    cells = [
        locked_markdown(
            f"# {lesson.id} · {lesson.title}\n\n{lesson.summary}\n\n"
            "**How this assignment works.** Run the first cell. Fill in every `YOUR CODE HERE` in the code cells "
            "of *Your code* and run them: each one writes its module and imports it. The test cells at the end "
            "run the lesson's specs against your code, stage by stage, and show your points.",
            "intro",
        ),
        v4.new_code_cell(
            f"from {HELPER} import check_stage, setup\n\nsetup()  # the %%module magic; the specs live in course/",
            metadata=_metadata(f"{package}_setup", locked=True),
        ),
    ]
    readme = exercises / "README.md"
    if readme.is_file():
        from .release import learner_markdown

        text = learner_markdown(readme.read_text(encoding="utf-8"), str(readme))  # students get no instructors' part
        cells += [v4.new_markdown_cell(part) for part in _markdown_cells(text)]
    cells.append(locked_markdown("# Your code", "code"))
    for module_name in _module_order(source, lesson.modules):
        stem = module_name[:-3]
        text = (source / module_name).read_text(encoding="utf-8")
        cells.append(locked_markdown(f"## `{module_name}`", f"{stem}_title"))
        cells.append(v4.new_code_cell(f"%%module {package}/{module_name}\n{text}", metadata=_metadata(f"{package}_{stem}", solution=True)))
    cells.append(locked_markdown("# Tests\n\nEach cell runs one stage's specs and is worth that stage's points.", "tests"))
    for number, stage in enumerate(lesson.stages, start=1):
        specs = "".join(f"\n    {spec!r}," for spec in stage.specs)
        code = (
            f"# Stage {number} · {stage.title} ({stage.points:g} points)\n"
            f"check_stage({lesson.id!r}, {stage.name!r}, points={stage.points:g}, specs=[{specs}\n])"
        )
        grade_id = f"{package}_stage{number}_{stage.name}"
        cells.append(v4.new_code_cell(code, metadata=_metadata(grade_id, grade=True, locked=True, points=stage.points)))
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata.update(
        kernelspec={"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        language_info={"name": "python"},
    )
    return notebook


def export_lesson(lesson, out: Path, root: Path) -> Path:
    """``out/source/<package>/``: the notebook, the helper and the course folder its tests run in."""
    import shutil

    import nbformat

    assignment = out / "source" / lesson.package
    course = assignment / "course" / "exercises"
    course.mkdir(parents=True, exist_ok=True)
    for path in (root / "exercises").glob("*.py"):  # __init__, conftest, spec_helpers
        shutil.copyfile(path, course / path.name)
    package = course / lesson.package
    package.mkdir(exist_ok=True)
    exercises = root / "exercises" / lesson.package
    for path in sorted(exercises.iterdir()):
        if path.suffix == ".py" and path.name not in lesson.modules:  # specs, __init__, entry points without regions
            shutil.copyfile(path, package / path.name)
    for dep in builds_on(lesson, root):
        (course / dep).mkdir(exist_ok=True)
        for path in (root / "solutions" / dep).glob("*.py"):
            shutil.copyfile(path, course / dep / path.name)
    if _uses_data(exercises) and (root / "data").is_dir():
        shutil.copytree(root / "data", assignment / "course" / "data", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
    shutil.copyfile(Path(__file__), assignment / f"{HELPER}.py")
    notebook_file = assignment / f"{lesson.package}.ipynb"
    nbformat.write(lesson_notebook(lesson, root), notebook_file)
    return notebook_file


def export_course(out: Path, root: Path | None = None, lessons: list[str] | None = None) -> list[Path]:
    """Write the nbgrader course directory ``out`` (every lesson, or the named ones); return the notebooks."""
    from ..lessons import COURSE_ROOT, get_lesson, load_lessons

    root = COURSE_ROOT if root is None else root
    if not (root / "solutions").is_dir():
        raise ValueError(f"{root} has no solutions/: the nbgrader export needs the reference (instructors only)")
    chosen = [get_lesson(text, root) for text in lessons] if lessons else load_lessons(root)
    out = Path(out)
    if (out / "source").exists() and any((out / "source").iterdir()) and not (out / "nbgrader_config.py").is_file():
        raise ValueError(f"{out} already holds a source/ folder that this command did not write")
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    return [export_lesson(lesson, out, root) for lesson in chosen]


def nbgrader_command(out: Path, root: Path | None = None, lessons: list[str] | None = None, console=None) -> int:
    """``llmfs nbgrader OUT [L01 L03 ...]``: export, then say what to run next."""
    from rich.console import Console

    console = console or Console(highlight=False)
    notebooks = export_course(out, root, lessons)
    for notebook in notebooks:
        console.print(f"wrote {notebook}")
    first = notebooks[0].parent.name if notebooks else "l01"
    console.print(
        f"{len(notebooks)} assignment(s) in {out}/source. Next, in {out}: "
        f"[cyan]nbgrader generate_assignment {first}[/] (the student version, in release/), then collect submissions "
        f"into submitted/<student>/{first}/ and run [cyan]nbgrader autograde {first}[/]."
    )
    return 0
