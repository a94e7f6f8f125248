"""The course tests itself: for each lesson, every spec fails on the stubs with the "not implemented" message,
passes on the reference, and every mutant in ``tests/mutants/lNN/`` turns at least one spec red.
"""
from __future__ import annotations

import ast
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .lessons import COURSE_ROOT, Lesson, get_lesson, load_lessons
from .sandbox.overlay import build_overlay, reference_sources
from .sandbox.run import RunResult, SpecResult, run_specs
from .sync import STUB_PATTERN, find_regions, out_of_sync

STUB_MESSAGE = re.compile(r"^not implemented: " + STUB_PATTERN.pattern)  # what the runner reports for a stub


@dataclass(frozen=True)
class Mutant:
    """A wrong version of one reference module, written as a small file in ``tests/mutants/lNN/``.

    The file's docstring names the mistake; ``TARGET = "module.py"`` names the module. Then either
    ``REPLACE = {old: new, ...}``, edits of the reference in which each ``old`` occurs exactly once (the usual
    form: the mutant follows the reference when it changes), or, where an edit cannot say it, code appended to
    the reference module (for example a function defined again, replacing the reference's).
    """

    package: str  # "l01"
    name: str  # file stem
    target: str  # module the mutant changes
    description: str
    text: str  # the file's text: appended to the module when there are no edits
    edits: tuple[tuple[str, str], ...] = ()

    def module_text(self, reference: str) -> str:
        """The mutated module, from the reference module's text."""
        if not self.edits:
            return f"{reference}\n\n# --- mutant {self.name} ---\n{self.text}"
        for old, new in self.edits:
            found = reference.count(old)
            if found != 1:
                raise ValueError(f"mutant {self.package}/{self.name}: {old!r} occurs {found} times in {self.target} (want exactly 1)")
            reference = reference.replace(old, new)
        return reference


def _constant(tree: ast.Module, name: str, path: Path) -> object:
    values = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]
    if len(values) > 1:
        raise ValueError(f"{path}: {name} is assigned more than once")
    try:
        return ast.literal_eval(values[0]) if values else None
    except ValueError:
        raise ValueError(f"{path}: {name} must be a literal") from None


def load_mutants(package: str, root: Path = COURSE_ROOT) -> list[Mutant]:
    """The mutants of one lesson (see :class:`Mutant`)."""
    mutants = []
    for path in sorted((root / "tests" / "mutants" / package).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        target, edits = _constant(tree, "TARGET", path), _constant(tree, "REPLACE", path)
        if not isinstance(target, str):
            raise ValueError(f"{path}: a mutant needs exactly one line TARGET = \"module.py\"")
        if edits is not None and not (isinstance(edits, dict) and edits and all(isinstance(k, str) and isinstance(v, str) for k, v in edits.items())):
            raise ValueError(f"{path}: REPLACE must be a non-empty dict of old text -> new text")
        description = (ast.get_docstring(tree) or path.stem).splitlines()[0]
        mutants.append(Mutant(package, path.stem, target, description, text, tuple((edits or {}).items())))
    return mutants


@dataclass
class LessonCheck:
    lesson: Lesson
    stub: list[SpecResult] = field(default_factory=list)
    reference: list[SpecResult] = field(default_factory=list)
    mutants: dict[str, list[str]] = field(default_factory=dict)  # mutant name -> the (first) spec it turned red
    mutant_descriptions: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def stub_red(self) -> int:
        return sum(STUB_MESSAGE.match(r.message) is not None and r.outcome == "failed" for r in self.stub)

    @property
    def reference_green(self) -> int:
        return sum(r.passed for r in self.reference)

    @property
    def mutants_caught(self) -> int:
        return sum(bool(caught) for caught in self.mutants.values())

    @property
    def ok(self) -> bool:
        return not self.problems


def _run_overlay(lesson: Lesson, root: Path, threads: int | None, exitfirst: bool = False, **overlay_args) -> RunResult:
    with tempfile.TemporaryDirectory(prefix=f"llmfs-{lesson.package}-") as scratch:
        tree = build_overlay(Path(scratch), course_root=root, **overlay_args)
        return run_specs(tree, [f"exercises/{lesson.package}"], threads=threads, exitfirst=exitfirst)


def _unlisted_specs(run: RunResult, lesson: Lesson) -> list[str]:
    return sorted(set(run.specs.get(lesson.package, {})) - set(lesson.specs))


def check_manifest(lesson: Lesson, root: Path = COURSE_ROOT) -> list[str]:
    """Problems with a lesson's files that need no spec run."""
    problems = []
    solution_dir = root / "solutions" / lesson.package
    with_regions = sorted(
        p.name for p in solution_dir.glob("*.py") if find_regions(p.read_text(encoding="utf-8"), str(p))
    )
    if sorted(lesson.modules) != with_regions:
        problems.append(f"manifest modules {sorted(lesson.modules)} != solution modules with regions {with_regions}")
    for stage in lesson.stages:
        if not stage.specs:
            problems.append(f"stage {stage.name!r} lists no specs")
        if not 2 <= len(stage.hints) <= 3:
            problems.append(f"stage {stage.name!r} has {len(stage.hints)} hints (want a ladder of 2-3)")
    if not (root / "exercises" / lesson.package / "README.md").is_file():
        problems.append("no README.md")
    return problems


def check_lesson(
    lesson: Lesson,
    root: Path = COURSE_ROOT,
    *,
    jobs: int | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> LessonCheck:
    """Run the stub, reference and mutant checks of one lesson (in parallel over ``jobs`` processes)."""
    check = LessonCheck(lesson, problems=check_manifest(lesson, root))
    mutants = load_mutants(lesson.package, root)
    jobs = jobs or os.cpu_count() or 1
    threads = 1 if jobs > 1 else None
    reference = reference_sources(root)
    say = on_progress or (lambda _: None)

    def stub() -> RunResult:
        return _run_overlay(lesson, root, threads)

    def ref() -> RunResult:
        return _run_overlay(lesson, root, threads, sources=reference)

    def mutant(m: Mutant) -> Callable[[], RunResult]:
        # The first red spec is enough to know a mutant is caught.
        text = m.module_text((root / "solutions" / m.package / m.target).read_text(encoding="utf-8"))
        return lambda: _run_overlay(lesson, root, threads, exitfirst=True, sources=reference, modules={(m.package, m.target): text})

    tasks = {"stub": stub, "reference": ref} | {f"mutant:{m.name}": mutant(m) for m in mutants}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        runs = {}
        for name, future in futures.items():
            runs[name] = future.result()
            say(f"{lesson.id} {name}")

    stub_run, ref_run = runs["stub"], runs["reference"]
    check.stub, check.reference = stub_run.for_lesson(lesson), ref_run.for_lesson(lesson)
    for problem_run, label in ((stub_run, "stubs"), (ref_run, "reference")):
        for module, message in problem_run.collect_errors.items():
            check.problems.append(f"collection error on the {label} in {module}: {message}")
    for spec in _unlisted_specs(ref_run, lesson):
        check.problems.append(f"spec {spec} is collected but listed in no stage of lesson.toml")
    noisy = [line for line in stub_run.output.splitlines() if line.startswith(("E   ", "Traceback"))]
    if noisy:
        check.problems.append(f"on the stubs, the output shows tracebacks instead of one line per spec: {noisy[0]!r}")
    for result in check.stub:
        if not (result.outcome == "failed" and STUB_MESSAGE.match(result.message)):
            check.problems.append(
                f"on the stubs, {result.spec} should fail with 'not implemented', got {result.outcome}: {result.message}"
            )
    for result in check.reference:
        if not result.passed:
            check.problems.append(f"on the reference, {result.spec} {result.outcome}: {result.message}")
    for m in mutants:
        caught = [r.spec for r in runs[f"mutant:{m.name}"].for_lesson(lesson) if r.outcome in ("failed", "error")]
        check.mutants[m.name] = caught
        check.mutant_descriptions[m.name] = m.description
        if not caught:
            check.problems.append(f"mutant {m.name} ({m.description}) is caught by no spec")
    return check


def check_sync(root: Path = COURSE_ROOT) -> list[str]:
    return [f"exercises/ out of sync with solutions/: {p} (run: llmfs sync)" for p in out_of_sync(root)]


def selected_lessons(names: Iterable[str] | None, root: Path = COURSE_ROOT) -> list[Lesson]:
    """The named lessons (a ManifestError for an unknown one), or every lesson."""
    names = list(names or ())
    return [get_lesson(name, root) for name in names] if names else load_lessons(root)
