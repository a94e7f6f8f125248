"""Generate the learner's stubs (``exercises/lNN/*.py``) from the reference (``solutions/lNN/*.py``).

Every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) becomes one line,
``raise NotImplementedError("L01 get_stats() is not implemented yet: ...")``, at the region's indentation.
Everything outside the markers (signatures, docstrings, scaffolding) is copied as it is.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from .lessons import COURSE_ROOT, lesson_id

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


class MarkerError(ValueError):
    """Solution markers that are unbalanced, nested, or outside a function."""


@dataclass(frozen=True)
class Region:
    begin: int  # 0-based line index of the BEGIN marker
    end: int  # 0-based line index of the END marker
    function: str  # qualified name, e.g. "RegexTokenizer.encode"


def _function_spans(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function, 1-based, outer before inner."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def find_regions(source: str, filename: str = "<solution>") -> list[Region]:
    """The solution regions of a module, each with the function that encloses it."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}: not valid Python: {exc}") from exc
    spans = _function_spans(tree)
    regions: list[Region] = []
    begin: int | None = None
    for index, line in enumerate(source.splitlines()):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise MarkerError(f"{filename}:{index + 1}: {BEGIN} inside another solution region")
            begin = index
        elif marker == END:
            if begin is None:
                raise MarkerError(f"{filename}:{index + 1}: {END} without a {BEGIN}")
            # A function's span ends at its last statement, so the END comment may lie past it: the
            # region belongs to the innermost function whose body holds the BEGIN line.
            indented = source.splitlines()[begin].startswith((" ", "\t"))
            enclosing = [name for first, last, name in spans if first < begin + 1 <= last]
            if not (enclosing and indented):
                raise MarkerError(
                    f"{filename}:{begin + 1}: a solution region must sit inside a function body "
                    "(module-level code would make the stub fail to import)"
                )
            regions.append(Region(begin, index, enclosing[-1]))
            begin = None
    if begin is not None:
        raise MarkerError(f"{filename}:{begin + 1}: {BEGIN} is never closed by {END}")
    return regions


def stub_message(lesson: str, function: str, package: str, module: str) -> str:
    """What a stub raises (``STUB_PATTERN`` reads it back: the self-check, the notebooks' one-line report)."""
    return (
        f"{lesson} {function}() is not implemented yet: write it in exercises/{package}/{module} "
        f"(stuck? run: llmfs hint {lesson})"
    )


# A stub's message: lesson, function, path, package.
STUB_PATTERN = re.compile(r"(L\d\d) ([\w.]+)\(\) is not implemented yet: write it in (exercises/(l\d\d)/\S+)")


def make_stub(source: str, *, package: str, module: str) -> str:
    """The learner's version of one reference module."""
    lines = source.splitlines(keepends=True)
    lesson = lesson_id(package)
    for region in reversed(find_regions(source, f"solutions/{package}/{module}")):
        marker_line = lines[region.begin]
        indent = marker_line[: len(marker_line) - len(marker_line.lstrip())]
        message = stub_message(lesson, region.function, package, module)
        lines[region.begin : region.end + 1] = [f"{indent}raise NotImplementedError({message!r})\n"]
    stub = "".join(lines)
    ast.parse(stub, filename=f"exercises/{package}/{module}")
    return stub


def is_generated(path: Path) -> bool:
    """Modules in exercises/lNN that come from solutions/ (specs and conftest are hand-written)."""
    return path.suffix == ".py" and not path.name.startswith("test_") and path.name != "conftest.py"


def expected_exercises(root: Path = COURSE_ROOT) -> dict[Path, str]:
    """What ``exercises/`` should hold for every module generated from ``solutions/``."""
    expected: dict[Path, str] = {}
    for source_path in sorted((root / "solutions").glob("l[0-9][0-9]/*.py")):
        package = source_path.parent.name
        text = source_path.read_text(encoding="utf-8")
        expected[root / "exercises" / package / source_path.name] = make_stub(
            text, package=package, module=source_path.name
        )
    return expected


def out_of_sync(root: Path = COURSE_ROOT) -> list[str]:
    """Paths (relative to root) that ``llmfs sync`` would write or that have no source any more."""
    expected = expected_exercises(root)
    problems = [
        str(path.relative_to(root))
        for path, text in expected.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    for path in sorted((root / "exercises").glob("l[0-9][0-9]/*.py")):
        if is_generated(path) and path not in expected and (root / "solutions" / path.parent.name).is_dir():
            problems.append(f"{path.relative_to(root)} (no solutions/ source: delete it)")
    return problems


def sync(root: Path = COURSE_ROOT) -> list[Path]:
    """Write every generated module that differs; return the paths written."""
    written = []
    for path, text in expected_exercises(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
