"""Mechanical mutation testing of every solution region: ``llmfs selfcheck --mutate [LESSON ...]``.

The hand-written mutants of :mod:`grader.selfcheck` hold the classic mistakes; these measure what they miss. Inside each
``### BEGIN SOLUTION`` / ``### END SOLUTION`` region of ``solutions/lNN/*.py`` an ``ast`` mutator makes one small edit
at a time, of six kinds:

- ``operator``: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//``, ``%``, ``**``, ``@``, bit operators, ``and`` <-> ``or``, a
  unary ``-``, ``~`` or ``not`` removed, the same for augmented assignments;
- ``constant``: an int ``n`` -> ``n + 1``, a float ``x`` -> ``x + 1.0``, ``True`` <-> ``False``, a string ``"s"`` -> ``"XXsXX"``;
- ``comparison``: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``is`` <-> ``is not``, ``in`` <-> ``not in``;
- ``slice``: a bound or step of ``x[a:b:c]`` dropped, a bound that is not a literal moved by one (``x[:n]`` -> ``x[:n + 1]``);
- ``argument``: a keyword argument dropped, a positional argument dropped, two neighbouring positional arguments swapped;
- ``statement``: a simple statement replaced by ``pass``.

Docstrings, the messages of ``assert`` and ``raise`` (the whole raised expression), f-strings and type annotations
are never mutated. Each mutant is spliced into the module's text as a minimal edit (the rest of the file, comments
included, is untouched) and checked by parsing it back.

**Keys and ids.** A mutant is named by its lesson, module, function (the region's qualified name) and the
canonical source (``ast.unparse``) of the statement it changes, before and after (for a compound statement, its
header line), with an occurrence number when the same edit appears twice in one function. No line numbers: the key
survives edits elsewhere in the file, and the id (a hash of the key) is stable across runs.

**Running them fast.** One worker process per lesson (a subprocess of the command) imports PyTorch and the oracles
once, runs pytest on an overlay of the reference (:mod:`grader.sandbox.overlay`) up to the end of collection, and
then takes over pytest's run loop:

1. *coverage*: every spec runs once on the reference, alone, in a child forked from the collected process, under
   ``sys.settrace`` restricted to the lesson's modules: which region lines each spec executes, and how long it takes
   (a function stops being traced once every line of it that has mutants has been seen). Lines executed while the
   specs and modules are imported (module-level tables) are recorded separately. Then a control: the reference's own
   code swapped in the way a mutant's is must leave every spec green.
2. *mutants*: each mutant runs in a child forked from the same process. The child compiles the mutated module and
   swaps the new code object into the live function (``function.__code__``; methods, decorated and static functions
   alike, found through the function objects the module created), so nothing is imported again; then it runs only
   the specs that executed the mutated lines, fastest first, and stops at the first red one (``-x``). Hypothesis does
   not shrink in these children. A mutant whose lines no spec executes is "survived (not covered)" without a run.
   ``--all-specs`` also runs the remaining specs of the lesson when the covering ones stay green.
3. A mutant that cannot be swapped in (its lines run at import time, or it changes a closure) is run the slow way: the
   whole lesson in the course's usual spec runner on an overlay holding the mutated module (``modules=``), as the
   hand-written mutants are.

Each child is single-threaded (``jobs`` of them run at once), has an address-space limit, and is killed when one spec
runs past ``timeout_factor`` times its time on the reference plus ``timeout_floor`` seconds: a mutant that hangs is
"killed by timeout", reported apart, with the spec it hung in.

**Equivalent mutants** are listed, reviewed, in ``tests/mutants/equivalent.toml`` (``[[equivalent]]`` tables with
``lesson``, ``module``, ``function``, ``original``, ``mutated``, optionally ``occurrence``, and a ``reason``).
``--survivors FILE`` writes the survivors in the same format for review. The goal: at least 95% of the non-equivalent
mutants of every lesson killed.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .lessons import COURSE_ROOT, Lesson, lesson_id, spec_key
from .sync import find_regions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = ("operator", "constant", "comparison", "slice", "argument", "statement")
GOAL = 0.95
EQUIVALENTS = Path("tests") / "mutants" / "equivalent.toml"  # relative to the course root

# --------------------------------------------------------------------------------------------------------------
# Generating mutants
# --------------------------------------------------------------------------------------------------------------

_BINOP: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitAnd,
}  # fmt: skip
_CMPOP: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}  # fmt: skip
_DELETABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Raise, ast.Delete, ast.Break, ast.Continue, ast.Assert)
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


@dataclass(frozen=True)
class MechanicalMutant:
    """One small edit inside a solution region of one module."""

    package: str  # "l03"
    module: str  # "attention.py"
    function: str  # the region's function, e.g. "SelfAttention.forward"
    kind: str  # one of KINDS
    original: str  # canonical source of the statement it changes (a compound statement's header)
    mutated: str  # the same statement after the edit
    occurrence: int  # 1, or n for the n-th mutant with the same key in one function
    line: int  # first line of the edited code in the reference (display only: never part of the key)
    end_line: int
    text: str  # the whole mutated module
    swap: tuple[str, int]  # (co_qualname, co_firstlineno) of the top-level function or method that holds the edit

    @property
    def lesson(self) -> str:
        return lesson_id(self.package)

    @property
    def key(self) -> tuple[str, str, str, str, str, int]:
        return (self.lesson, self.module, self.function, self.original, self.mutated, self.occurrence)

    @property
    def id(self) -> str:
        digest = hashlib.sha1("\0".join(map(str, self.key)).encode()).hexdigest()[:10]
        return f"{self.lesson}-{digest}"

    @property
    def location(self) -> str:
        return f"solutions/{self.package}/{self.module}:{self.line}"


class _Source:
    """A module's text with ast positions (UTF-8 byte columns) turned into string offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="replace"))

    def splice(self, node: ast.AST, replacement: str) -> str:
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno, node.end_col_offset)
        return self.text[:start] + replacement + self.text[end:]


def _header(statement: ast.stmt) -> str:
    """Canonical one-line source of a statement; of a compound statement or a definition, its header only."""
    if isinstance(statement, (*_COMPOUND, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        shell = copy.copy(statement)
        shell.body = [ast.Pass()]
        for name in ("orelse", "handlers", "finalbody"):
            if hasattr(shell, name):
                setattr(shell, name, [])
        if isinstance(shell, ast.Try):
            shell.finalbody = [ast.Pass()]
        header = []
        for line in ast.unparse(shell).splitlines():
            header.append(line)
            if not line.startswith("@"):
                break
        return " ".join(header)
    return " ".join(ast.unparse(statement).split("\n"))


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


@dataclass
class _Spot:
    """A node that may be mutated, with where it hangs in the tree."""

    node: ast.AST
    parent: ast.AST
    field: str
    index: int | None  # position in a list field, or None
    statement: ast.stmt  # the nearest enclosing statement (the node itself for a statement)
    top: int  # index in the module body of the top-level statement that holds it
    swap: tuple[str, int]
    function: str
    excluded: bool  # inside a docstring, an assert or raise message, an annotation or an f-string

    def put(self, new: ast.AST) -> None:
        if self.index is None:
            setattr(self.parent, self.field, new)
        else:
            getattr(self.parent, self.field)[self.index] = new


def _children(node: ast.AST) -> Iterator[tuple[str, int | None, ast.AST]]:
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            yield name, None, value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield name, i, item


def _excluded_field(node: ast.AST, name: str) -> bool:
    return (
        (isinstance(node, ast.Assert) and name == "msg")
        or isinstance(node, ast.Raise)
        or (isinstance(node, (ast.arg, ast.AnnAssign)) and name == "annotation")
        or (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and name == "returns")
        or isinstance(node, ast.JoinedStr)
    )


def _spots(tree: ast.Module, regions: list[tuple[int, int, str]]) -> Iterator[_Spot]:
    """Every node inside a region: regions are (first line, last line, function), 1-based and inclusive."""

    def in_region(node: ast.AST) -> str | None:
        for first, last, function in regions:
            if isinstance(node, ast.stmt) and first <= node.lineno <= last:
                return function
        return None

    def visit(node, parent, name, index, top, scope, swap, function, statement, excluded) -> Iterator[_Spot]:
        if isinstance(node, ast.stmt):
            statement = node
            if function is None:
                function = in_region(node)
        if function is not None and not isinstance(node, (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)):
            yield _Spot(node, parent, name, index, statement, top, swap, function, excluded or _is_docstring(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if swap is None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                swap = (".".join([*scope, node.name]), first)
            scope = [*scope, node.name]
        for child_name, child_index, child in _children(node):
            yield from visit(
                child, node, child_name, child_index, top, scope, swap, function, statement,
                excluded or _excluded_field(node, child_name),
            )  # fmt: skip

    for top, node in enumerate(tree.body):
        yield from visit(node, tree, "body", top, top, [], None, None, node, False)


def _const_mutation(value: object) -> object | None:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.0
    if isinstance(value, str):
        return f"XX{value}XX"
    if isinstance(value, bytes):
        return b"XX" + value + b"XX"
    return None


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


def _with(node: ast.AST, **fields) -> ast.AST:
    new = copy.copy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def _edits(spot: _Spot) -> Iterator[tuple[str, ast.AST]]:
    """(kind, replacement node) for every mutant of one spot."""
    node = spot.node
    if isinstance(node, ast.stmt):
        deletable = isinstance(node, _DELETABLE) and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        if isinstance(node, ast.AnnAssign) and node.value is None:
            deletable = False
        if (
            isinstance(node, ast.Return) and (node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None))
            and isinstance(spot.parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and spot.index == len(spot.parent.body) - 1
        ):  # fmt: skip
            deletable = False  # a function's last `return None` does nothing
        if deletable:
            yield "statement", ast.Pass()
        if isinstance(node, ast.AugAssign) and type(node.op) in _BINOP:
            yield "operator", _with(node, op=_BINOP[type(node.op)]())
        return
    if spot.excluded:
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
        yield "operator", _with(node, op=_BINOP[type(node.op)]())
    elif isinstance(node, ast.UnaryOp):
        yield "operator", node.operand
    elif isinstance(node, ast.BoolOp):
        yield "operator", _with(node, op=ast.Or() if isinstance(node.op, ast.And) else ast.And())
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            ops = list(node.ops)
            ops[i] = _CMPOP[type(op)]()
            yield "comparison", _with(node, ops=ops)
    elif isinstance(node, ast.Constant) and not (isinstance(spot.parent, ast.Expr) and isinstance(node.value, str)):
        new = _const_mutation(node.value)
        if new is not None:
            yield "constant", ast.Constant(new)
    elif isinstance(node, ast.Slice):
        for name in ("lower", "upper", "step"):
            if getattr(node, name) is not None:
                yield "slice", _with(node, **{name: None})
        for name in ("lower", "upper"):
            bound = getattr(node, name)
            if bound is not None and not _is_literal(bound):
                yield "slice", _with(node, **{name: ast.BinOp(bound, ast.Add(), ast.Constant(1))})
    elif isinstance(node, ast.Call):
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                yield "argument", _with(node, keywords=node.keywords[:i] + node.keywords[i + 1 :])
        positional = node.args
        for i, arg in enumerate(positional):
            if not isinstance(arg, ast.Starred):
                yield "argument", _with(node, args=positional[:i] + positional[i + 1 :])
        for i in range(len(positional) - 1):
            a, b = positional[i], positional[i + 1]
            if not isinstance(a, ast.Starred) and not isinstance(b, ast.Starred) and ast.dump(a) != ast.dump(b):
                yield "argument", _with(node, args=[*positional[:i], b, a, *positional[i + 2 :]])


def _replacement_text(node: ast.AST, new: ast.AST) -> str:
    text = ast.unparse(new)
    if isinstance(new, ast.Slice) or isinstance(node, ast.stmt):
        return text
    return f"({text})"


def generate_module(package: str, module: str, source: str, kinds: Iterable[str] = KINDS) -> list[MechanicalMutant]:
    """Every mechanical mutant of one module's solution regions, in source order."""
    kinds = set(kinds)
    tree = ast.parse(source)
    regions = [(r.begin + 2, r.end, r.function) for r in find_regions(source, f"solutions/{package}/{module}")]
    text = _Source(source)
    seen_texts: set[str] = set()
    counts: dict[tuple[str, str, str], int] = {}
    mutants = []
    for spot in list(_spots(tree, regions)):
        if spot.swap is None:  # pragma: no cover - find_regions only accepts regions inside functions
            continue
        for kind, new in _edits(spot):
            if kind not in kinds:
                continue
            original = _header(spot.statement)
            spot.put(new)
            try:
                mutated = _header(new) if spot.statement is spot.node else _header(spot.statement)
                expected = ast.dump(tree.body[spot.top])
            finally:
                spot.put(spot.node)
            if mutated == original:
                continue
            replacement = _replacement_text(spot.node, new)
            mutated_text = text.splice(spot.node, replacement)
            if mutated_text in seen_texts:
                continue
            # The splice must say exactly what the edited tree says: parse the edited top-level statement alone.
            top = tree.body[spot.top]
            first = min([top.lineno, *(d.lineno for d in getattr(top, "decorator_list", []))])
            begin, end = text.starts[first - 1], text.offset(top.end_lineno, top.end_col_offset)
            end += len(mutated_text) - len(text.text)
            try:
                check = ast.parse(mutated_text[begin:end])
            except SyntaxError:
                continue
            if len(check.body) != 1 or ast.dump(check.body[0]) != expected:
                continue
            seen_texts.add(mutated_text)
            count_key = (spot.function, original, mutated)
            counts[count_key] = counts.get(count_key, 0) + 1
            mutants.append(
                MechanicalMutant(
                    package, module, spot.function, kind, original, mutated, counts[count_key],
                    spot.node.lineno, spot.node.end_lineno or spot.node.lineno, mutated_text, spot.swap,
                )
            )  # fmt: skip
    return mutants


def generate(lesson: Lesson, root: Path = COURSE_ROOT, kinds: Iterable[str] = KINDS) -> list[MechanicalMutant]:
    """Every mechanical mutant of a lesson's solution modules."""
    mutants = []
    for module in lesson.modules:
        path = root / "solutions" / lesson.package / module
        mutants += generate_module(lesson.package, module, path.read_text(encoding="utf-8"), kinds)
    return mutants


# --------------------------------------------------------------------------------------------------------------
# Equivalent mutants and survivors: a reviewed TOML file
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equivalent:
    lesson: str
    module: str
    function: str
    original: str
    mutated: str
    reason: str
    occurrence: int | None = None  # None: every occurrence

    def matches(self, mutant: MechanicalMutant) -> bool:
        return (self.lesson, self.module, self.function, self.original, self.mutated) == mutant.key[:5] and (
            self.occurrence is None or self.occurrence == mutant.occurrence
        )


def load_equivalents(path: Path) -> list[Equivalent]:
    """The reviewed equivalent mutants; every entry needs a non-empty ``reason``."""
    if not path.is_file():
        return []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    entries = []
    for i, item in enumerate(raw.get("equivalent", []), 1):
        try:
            entry = Equivalent(
                lesson_id(item["lesson"]), item["module"], item["function"], item["original"], item["mutated"],
                item["reason"], item.get("occurrence"),
            )  # fmt: skip
        except KeyError as exc:
            raise ValueError(f"{path}: [[equivalent]] number {i} has no {exc}") from None
        if not entry.reason.strip():
            raise ValueError(f"{path}: [[equivalent]] number {i} ({entry.original!r} -> {entry.mutated!r}) has no reason")
        entries.append(entry)
    return entries


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def survivors_toml(results: Iterable[MutantResult]) -> str:
    """Survivors in the format of the equivalents file, ``reason`` empty: move the equivalent ones there."""
    out = [
        "# Mechanical mutants that no spec killed (llmfs selfcheck --mutate --survivors FILE).",
        "# Review each: write a spec that kills it, or, if it computes the same as the reference on every valid",
        "# input, move it to tests/mutants/equivalent.toml with its reason.",
    ]
    for result in results:
        m = result.mutant
        note = " (not covered by any spec)" if result.status == "uncovered" else ""
        out += [
            "",
            f"# {m.location}  {m.kind}  {m.id}{note}",
            "[[equivalent]]",
            f"lesson = {_toml_string(m.lesson)}",
            f"module = {_toml_string(m.module)}",
            f"function = {_toml_string(m.function)}",
            f"original = {_toml_string(m.original)}",
            f"mutated = {_toml_string(m.mutated)}",
            *([f"occurrence = {m.occurrence}"] if m.occurrence != 1 else []),
            'reason = ""',
        ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Running them: the coordinator (this process) and the worker (a pytest process that forks one child per run)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class MutantResult:
    mutant: MechanicalMutant
    status: str  # killed | timeout | survived | uncovered | equivalent
    spec: str = ""  # the spec that turned red
    message: str = ""
    seconds: float = 0.0
    how: str = "swap"  # swap: code swapped into the warm process; overlay: a whole run on the mutated module
    equivalent_reason: str = ""


@dataclass
class LessonMutation:
    lesson: Lesson
    results: list[MutantResult] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. equivalents that were killed, or match no mutant
    phases: dict[str, float] = field(default_factory=dict)  # worker phase -> seconds since it started, when it ended

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.results)

    @property
    def generated(self) -> int:
        return len(self.results)

    @property
    def killed(self) -> int:  # by a red spec or by the timeout
        return self.count("killed", "timeout")

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.status in ("survived", "uncovered")]

    @property
    def score(self) -> float:
        counted = self.generated - self.count("equivalent")
        return self.killed / counted if counted else 1.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.score >= GOAL


def _worker_env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1", HOME=str(scratch), TMPDIR=str(scratch),
        MPLCONFIGDIR=str(scratch / "mpl"), MPLBACKEND="Agg", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
        OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
    )  # fmt: skip
    return env


def mutate_lesson(
    lesson: Lesson,
    root: Path = COURSE_ROOT,
    *,
    jobs: int | None = None,
    equivalents: list[Equivalent] | None = None,
    all_specs: bool = False,
    kinds: Iterable[str] = KINDS,
    timeout_factor: float = 3.0,
    timeout_floor: float = 5.0,
    on_progress: Callable[[str], None] | None = None,
) -> LessonMutation:
    """Generate the lesson's mechanical mutants and run its specs on each."""
    from .sandbox.overlay import build_overlay, reference_sources

    say = on_progress or (lambda _: None)
    start = time.monotonic()
    jobs = jobs or os.cpu_count() or 1
    equivalents = [e for e in (equivalents or []) if e.lesson == lesson.id]
    report = LessonMutation(lesson)
    mutants = generate(lesson, root, kinds)
    report.phases["generate"] = round(time.monotonic() - start, 1)
    by_id = {m.id: m for m in mutants}
    if len(by_id) != len(mutants):  # pragma: no cover - keys include an occurrence number
        raise RuntimeError(f"{lesson.id}: two mechanical mutants share an id")
    results: dict[str, MutantResult] = {}
    slow: list[MechanicalMutant] = []
    reference_seconds = 60.0
    with tempfile.TemporaryDirectory(prefix=f"llmfs-mutate-{lesson.package}-") as scratch_dir:
        scratch = Path(scratch_dir)
        tree = build_overlay(scratch / "tree", course_root=root, sources=reference_sources(root))
        (scratch / "home").mkdir()
        job = {
            "tree": str(tree), "package": lesson.package, "modules": list(lesson.modules), "jobs": jobs,
            "all_specs": all_specs, "timeout_factor": timeout_factor, "timeout_floor": timeout_floor,
            "mutants": [
                {"id": m.id, "module": m.module, "lines": [m.line, m.end_line], "swap": list(m.swap), "text": m.text}
                for m in mutants
            ],
        }  # fmt: skip
        (scratch / "job.json").write_text(json.dumps(job), encoding="utf-8")
        boot = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r}); from grader.selfcheck_mutate import worker_main; worker_main(sys.argv[1])"
        log_path = scratch / "worker.log"
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-c", boot, str(scratch / "job.json")], stdout=subprocess.PIPE, stderr=log,
                env=_worker_env(scratch / "home"), cwd=str(tree),
            )  # fmt: skip
            for line in worker.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                kind = event.get("event")
                if kind == "result":
                    mutant = by_id[event["id"]]
                    if event["status"] == "overlay":
                        slow.append(mutant)
                        continue
                    results[mutant.id] = MutantResult(mutant, event["status"], event.get("spec", ""), event.get("message", ""), event.get("seconds", 0.0))
                    say(f"{lesson.id}: {len(results)}/{len(mutants)} mutants")
                elif kind == "coverage":
                    reference_seconds = max(reference_seconds, float(event.get("seconds", 0.0)))
                    say(f"{lesson.id}: specs on the reference: {event['done']}/{event['total']}")
                elif kind == "phase":
                    report.phases[event["name"]] = round(float(event["seconds"]), 1)
                elif kind == "problem":
                    report.problems.append(event["message"])
            worker.wait()
        if worker.returncode != 0 and not report.problems:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            report.problems.append(f"the mutation worker failed (exit {worker.returncode}): {tail}")
    for mutant, result in zip(slow, _run_on_overlays(lesson, root, slow, jobs, timeout_factor * reference_seconds + 60)):
        results[mutant.id] = result
        say(f"{lesson.id}: {len(results)}/{len(mutants)} mutants")
    used = set()
    for mutant in mutants:
        result = results.get(mutant.id)
        if result is None:
            if not report.problems:
                report.problems.append(f"mutant {mutant.id} was never run")
            continue
        for i, entry in enumerate(equivalents):
            if entry.matches(mutant):
                used.add(i)
                if result.status in ("survived", "uncovered"):
                    result.status, result.equivalent_reason = "equivalent", entry.reason
                else:
                    report.notes.append(f"listed as equivalent but killed by {result.spec or result.status}: {mutant.location} {mutant.original} -> {mutant.mutated}")
        report.results.append(result)
    for i, entry in enumerate(equivalents):
        if i not in used:
            report.notes.append(f"equivalent entry matches no mutant (stale?): {entry.module} {entry.function}: {entry.original} -> {entry.mutated}")
    report.seconds = time.monotonic() - start
    return report


def _run_on_overlays(lesson: Lesson, root: Path, mutants: list[MechanicalMutant], jobs: int, timeout: float) -> list[MutantResult]:
    """The slow way, for mutants that cannot be swapped into a warm process: the whole lesson on a mutated overlay."""
    from .sandbox.overlay import build_overlay, reference_sources
    from .sandbox.run import run_specs

    reference = reference_sources(root)

    def one(mutant: MechanicalMutant) -> MutantResult:
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"llmfs-mutant-{lesson.package}-") as scratch:
            tree = build_overlay(Path(scratch), course_root=root, sources=reference, modules={(mutant.package, mutant.module): mutant.text})
            run = run_specs(tree, [f"exercises/{lesson.package}"], threads=1, exitfirst=True, total_timeout=timeout)
        red = [r for r in run.for_lesson(lesson) if r.outcome in ("failed", "error")]
        seconds = time.monotonic() - start
        if red:
            return MutantResult(mutant, "killed", red[0].spec, red[0].message, seconds, how="overlay")
        if run.collect_errors:
            module, message = next(iter(run.collect_errors.items()))
            return MutantResult(mutant, "killed", module, message, seconds, how="overlay")
        if run.timed_out:
            return MutantResult(mutant, "timeout", seconds=seconds, how="overlay")
        if run.returncode not in (0, 1, 5):
            return MutantResult(mutant, "killed", "", f"the run crashed (exit {run.returncode})", seconds, how="overlay")
        return MutantResult(mutant, "survived", seconds=seconds, how="overlay")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, mutants))


# ---- the worker --------------------------------------------------------------------------------------------------


class _LineTracer:
    """Lines executed in the given files: ``sys.settrace`` with a local tracer only for their frames.

    wanted: code object -> the lines of it that matter (those with mutants). A code object stops being traced once
    they have all been seen (a hot loop costs the tracer only its first turns), and one without any is never traced.
    Code of those files that ``wanted`` does not know (module bodies) is traced in full.
    """

    def __init__(self, files: dict[str, str], wanted: dict | None = None) -> None:
        self.files = files  # filename -> module ("attention.py")
        self.lines: set[tuple[str, int]] = set()
        self.remaining = {code: set(lines) for code, lines in (wanted or {}).items()}

    def _global(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename not in self.files:
            return None
        remaining = self.remaining.get(code)
        if remaining is not None and not remaining:
            return None
        return self._local

    def _local(self, frame, event, arg):
        if event == "line":
            code = frame.f_code
            line = frame.f_lineno
            self.lines.add((self.files[code.co_filename], line))
            remaining = self.remaining.get(code)
            if remaining is not None:
                remaining.discard(line)
                if not remaining:
                    return None
        return self._local

    def start(self) -> None:
        import threading

        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self) -> None:
        import threading

        sys.settrace(None)
        threading.settrace(None)


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else report.outcome


class _Recorder:
    """In a child: the first failing report."""

    def __init__(self) -> None:
        self.failed: tuple[str, str] | None = None

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed and self.failed is None:
            self.failed = (spec_key(report.nodeid), _first_line(report))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Forker:
    """Runs child tasks, ``jobs`` at a time, each in a process forked from this one, each with a deadline.

    A child writes lines to a pipe: ``T <seconds> <label>`` moves its deadline to that many seconds from now (a
    child that runs several specs sets one per spec, labelled with the spec), and its last line, ``R <json>``, is its answer. A child killed at its
    deadline answers ``{"status": "timeout"}``; one that dies without answering, ``{"status": "killed"}`` (a crash).
    """

    def __init__(self, jobs: int, memory_bytes: int | None) -> None:
        self.jobs = jobs
        self.memory_bytes = memory_bytes

    def run(self, tasks: Iterable[tuple[object, float]], child: Callable, done: Callable[[object, dict], None]) -> None:
        """``child(task, deadline)`` runs in the child and returns its answer; ``deadline(seconds, label)`` moves the deadline."""
        pending = iter(tasks)
        running: dict[int, dict] = {}  # read fd -> {pid, task, deadline, buffer, answer, start}
        exhausted = False
        while running or not exhausted:
            while not exhausted and len(running) < self.jobs:
                try:
                    task, timeout = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                read, write = os.pipe()
                pid = os.fork()
                if pid == 0:
                    self._child(read, write, child, task)
                os.close(write)
                now = time.monotonic()
                running[read] = {"pid": pid, "task": task, "deadline": now + timeout, "buffer": b"", "answer": None, "start": now}
            if not running:
                break
            wait = max(0.0, min(entry["deadline"] for entry in running.values()) - time.monotonic())
            ready, _, _ = select.select(list(running), [], [], min(wait, 1.0))
            for fd in ready:
                entry = running[fd]
                data = os.read(fd, 1 << 16)
                if data:
                    entry["buffer"] += data
                    *lines, entry["buffer"] = entry["buffer"].split(b"\n")
                    for line in lines:
                        if line.startswith(b"T "):
                            seconds, _, entry["label"] = line[2:].decode().partition(" ")
                            entry["deadline"] = time.monotonic() + float(seconds)
                        elif line.startswith(b"R "):
                            entry["answer"] = json.loads(line[2:].decode())
                    continue
                os.close(fd)
                del running[fd]
                _, status = os.waitpid(entry["pid"], 0)
                self._kill_group(entry["pid"])
                answer = entry["answer"] or {"status": "killed", "message": f"the run crashed (exit {os.waitstatus_to_exitcode(status)})"}
                answer["seconds"] = round(time.monotonic() - entry["start"], 3)
                done(entry["task"], answer)
            now = time.monotonic()
            for fd, entry in list(running.items()):
                if now > entry["deadline"]:
                    self._kill_group(entry["pid"])
                    os.waitpid(entry["pid"], 0)
                    os.close(fd)
                    del running[fd]
                    done(entry["task"], {"status": "timeout", "spec": entry.get("label", ""), "seconds": round(now - entry["start"], 3)})

    def _child(self, read: int, write: int, child: Callable, task: object) -> None:
        """In the forked child: never returns."""
        code = 0
        try:
            os.close(read)
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            if self.memory_bytes:
                import resource

                resource.setrlimit(resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes))
            answer = child(task, lambda seconds, label="": _write_all(write, f"T {seconds:.3f} {label}\n".encode()))
            _write_all(write, b"R " + json.dumps(answer).encode() + b"\n")
        except BaseException as exc:  # noqa: BLE001 - report and leave: a throwaway child
            try:
                _write_all(write, b"R " + json.dumps({"status": "killed", "message": f"the run crashed: {exc!r}"[:300]}).encode() + b"\n")
            except BaseException:  # noqa: BLE001
                code = 70
        finally:
            os._exit(code)

    @staticmethod
    def _kill_group(pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class _MutationPlugin:
    """Loaded into the worker's pytest run: traces collection, then replaces the run loop."""

    def __init__(self, job: dict, out) -> None:
        self.job = job
        self.out = out
        tree = Path(job["tree"])
        self.files: dict[str, str] = {}
        for module in job["modules"]:
            path = tree / "exercises" / job["package"] / module
            self.files[str(path)] = module
            self.files[os.path.realpath(path)] = module
        self.import_lines: set[tuple[str, int]] = set()
        self.started = time.monotonic()

    def emit(self, **event) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session):
        import importlib

        tracer = _LineTracer(self.files)
        tracer.start()
        try:
            result = yield
            for module in self.job["modules"]:  # modules that specs import only inside a spec: import them now
                importlib.import_module(f"exercises.{self.job['package']}.{module[:-3]}")
        finally:
            tracer.stop()
        self.import_lines = tracer.lines
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session) -> bool:
        try:
            self._loop(session)
        except BaseException as exc:  # noqa: BLE001 - said to the coordinator, which reports it
            import traceback

            traceback.print_exc()
            self.emit(event="problem", message=f"the mutation worker failed: {exc!r}")
        return True

    def _loop(self, session) -> None:
        import gc
        import types

        if session.testsfailed:
            self.emit(event="problem", message="the specs do not collect on the reference")
            return
        items = list(session.items)
        functions: dict[tuple[str, int], list] = {}
        for obj in gc.get_objects():
            if type(obj) is types.FunctionType and obj.__code__.co_filename in self.files:
                code = obj.__code__
                functions.setdefault((self.files[code.co_filename], code.co_qualname, code.co_firstlineno), []).append(obj)
        self.functions = functions
        spans = {(m["module"], line) for m in self.job["mutants"] for line in range(m["lines"][0], m["lines"][1] + 1)}
        wanted: dict = {}

        def want(code, module: str) -> None:
            wanted[code] = {line for _, _, line in code.co_lines() if line is not None and (module, line) in spans}
            for const in code.co_consts:
                if hasattr(const, "co_lines"):
                    want(const, module)

        for (module, _, _), targets in functions.items():
            for function in targets:
                want(function.__code__, module)
        status = open("/proc/self/status").read() if os.path.exists("/proc/self/status") else ""
        vm = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:")), 0)
        forker = _Forker(int(self.job["jobs"]), vm + (6 << 30) if vm else None)
        gc.collect()
        gc.freeze()

        # 1. Coverage: each spec alone on the reference, traced.
        coverage: dict[str, dict] = {}

        def trace_one(item, _deadline) -> dict:
            tracer = _LineTracer(self.files, wanted)
            recorder = _Recorder()
            session.config.pluginmanager.register(recorder, "llmfs-recorder")
            start = time.perf_counter()
            tracer.start()
            item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
            tracer.stop()
            return {
                "status": "failed" if recorder.failed else "passed", "message": recorder.failed[1] if recorder.failed else "",
                "lines": sorted(tracer.lines), "seconds": time.perf_counter() - start,
            }  # fmt: skip

        def traced(item, answer) -> None:
            coverage[item.nodeid] = answer
            self.emit(event="coverage", done=len(coverage), total=len(items), seconds=sum(a.get("seconds", 0.0) for a in coverage.values()))

        self.emit(event="phase", name="collect", seconds=time.monotonic() - self.started)
        forker.run(((item, 600.0) for item in items), trace_one, traced)
        self.emit(event="phase", name="coverage", seconds=time.monotonic() - self.started)
        usable = []
        for item in items:
            answer = coverage[item.nodeid]
            if answer["status"] != "passed":
                self.emit(event="problem", message=f"on the reference, alone, {spec_key(item.nodeid)} {answer['status']}: {answer.get('message', '')}")
            else:
                usable.append(item)
        if len(usable) != len(items):
            return
        lines_of = {item.nodeid: {tuple(x) for x in coverage[item.nodeid]["lines"]} for item in items}
        seconds_of = {item.nodeid: coverage[item.nodeid]["seconds"] for item in items}
        factor, floor = float(self.job["timeout_factor"]), float(self.job["timeout_floor"])

        # 2. A control: the reference's code swapped in as a mutant would be must leave every spec green.
        def control(_task, _deadline) -> dict:
            for module in self.job["modules"]:
                path = Path(self.job["tree"]) / "exercises" / self.job["package"] / module
                code = compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)
                for (name, qualname, firstline), targets in self.functions.items():
                    found = _find_code(code, qualname, firstline) if name == module else None
                    if found is not None and all(f.__code__.co_freevars == found.co_freevars for f in targets):
                        for function in targets:
                            function.__code__ = found
            recorder = _Recorder()
            session.config.pluginmanager.register(recorder, "llmfs-recorder")
            for i, item in enumerate(items):
                item.ihook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items) else None)
                if recorder.failed:
                    return {"status": "killed", "spec": recorder.failed[0], "message": recorder.failed[1]}
            return {"status": "survived"}

        controls: list[dict] = []
        forker.run([("control", 3 * sum(seconds_of.values()) + 60)], control, lambda _, answer: controls.append(answer))
        self.emit(event="phase", name="control", seconds=time.monotonic() - self.started)
        if controls[0]["status"] != "survived":
            self.emit(event="problem", message=f"the harness is broken: with the reference's own code swapped in, {controls[0].get('spec', '')} {controls[0]['status']}: {controls[0].get('message', '')}")
            return

        # 3. Mutants.
        try:  # a red spec is enough: hypothesis need not shrink the failing example
            from hypothesis import Phase, settings

            settings.register_profile("llmfs-mutate", parent=settings.get_profile(settings.get_current_profile_name()), phases=[Phase.explicit, Phase.reuse, Phase.generate], report_multiple_bugs=False)
            hypothesis_settings = settings
        except Exception:  # noqa: BLE001 - hypothesis is optional
            hypothesis_settings = None

        tasks = []
        for mutant in self.job["mutants"]:
            first, last = mutant["lines"]
            span = {(mutant["module"], line) for line in range(first, last + 1)}
            if span & self.import_lines:
                self.emit(event="result", id=mutant["id"], status="overlay")
                continue
            covering = [i for i in items if lines_of[i.nodeid] & span]
            if not covering:
                self.emit(event="result", id=mutant["id"], status="uncovered")
                continue
            rest = [i for i in items if i not in covering] if self.job["all_specs"] else []
            tasks.append(((mutant, covering, rest), floor))
        kills: dict[str, int] = {}

        def ordered():  # the covering specs that have killed most per second first (the neighbours' killers)
            for (mutant, covering, rest), timeout in tasks:
                covering = sorted(covering, key=lambda i: seconds_of[i.nodeid] / (1 + kills.get(spec_key(i.nodeid), 0)))
                yield (mutant, covering, rest), timeout

        def run_mutant(task, deadline) -> dict:
            mutant, covering, rest = task
            if not self._swap(mutant):
                return {"status": "overlay"}
            if hypothesis_settings is not None:
                hypothesis_settings.load_profile("llmfs-mutate")
            recorder = _Recorder()
            session.config.pluginmanager.register(recorder, "llmfs-recorder")
            for group in (covering, rest):
                for i, item in enumerate(group):
                    deadline(factor * seconds_of[item.nodeid] + floor, spec_key(item.nodeid))  # a few times its time on the reference
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=group[i + 1] if i + 1 < len(group) else None)
                    if recorder.failed:
                        return {"status": "killed", "spec": recorder.failed[0], "message": recorder.failed[1]}
            return {"status": "survived"}

        def ran(task, answer) -> None:
            if answer.get("spec") and answer["status"] == "killed":
                kills[answer["spec"]] = kills.get(answer["spec"], 0) + 1
            self.emit(event="result", id=task[0]["id"], **answer)

        forker.run(ordered(), run_mutant, ran)
        self.emit(event="phase", name="mutants", seconds=time.monotonic() - self.started)

    def _swap(self, mutant: dict) -> bool:
        """Put the mutated code into the live function(s); False when that cannot say it (then: an overlay run)."""
        qualname, firstline = mutant["swap"]
        module = mutant["module"]
        targets = self.functions.get((module, qualname, firstline))
        if not targets:
            return False
        filename = targets[0].__code__.co_filename
        code = compile(mutant["text"], filename, "exec", dont_inherit=True)
        found = _find_code(code, qualname, firstline)
        if found is None:
            return False
        for function in targets:
            if function.__code__.co_freevars != found.co_freevars:
                return False
        for function in targets:
            function.__code__ = found
        return True


def _find_code(code, qualname: str, firstline: int):
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            if const.co_qualname == qualname and const.co_firstlineno == firstline:
                return const
            inner = _find_code(const, qualname, firstline)
            if inner is not None:
                return inner
    return None


def worker_main(job_path: str) -> None:
    """The worker: ``python -c '... worker_main(job.json)'`` with the overlay as its working directory."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    out = os.fdopen(os.dup(1), "w", buffering=1)
    log = os.open(Path(job_path).with_name("pytest.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    from .sandbox.zygote import _preload

    started = time.monotonic()
    _preload()
    import torch

    torch.set_num_threads(1)
    tree = job["tree"]
    os.chdir(tree)
    sys.path.insert(0, tree)
    sys.dont_write_bytecode = True
    args = [
        f"exercises/{job['package']}", "-p", "_hypothesis_pytestplugin", "-p", "no:cacheprovider", "--capture=no",
        "-q", "--no-header", "-o", "addopts=", "--rootdir", tree, "--tb=line", "-W", "ignore::DeprecationWarning",
    ]  # fmt: skip
    plugin = _MutationPlugin(job, out)
    plugin.started = started
    pytest.main(args, plugins=[plugin])
    out.write(json.dumps({"event": "done"}) + "\n")
    out.flush()
    os._exit(0)  # skip interpreter teardown (PyTorch's and the oracles')


# --------------------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------------------


def command(args, console) -> int:
    """``llmfs selfcheck --mutate``: the table, survivors with -v, the exit code."""
    from rich.table import Table

    from .selfcheck import selected_lessons

    root = args.root
    equivalents_path = getattr(args, "equivalents", None) or root / EQUIVALENTS
    equivalents = load_equivalents(Path(equivalents_path))
    table = Table(
        title="Mechanical mutants: killed by the specs", title_justify="left", caption_justify="left",
        caption="made: mutants generated; t/o: of the killed, by a timeout; uncov.: of the survivors, run by no spec; equiv.: reviewed equivalents",
    )  # fmt: skip  (short headers: the table fits 80 columns)
    for column in ("Lesson", "Made", "Killed", "t/o", "Surv.", "uncov.", "equiv.", "%", "Time", "OK"):
        table.add_column(column, justify="left" if column == "Lesson" else "right", no_wrap=True, min_width=len(column) + (4 if column == "%" else 1 if column == "OK" else 0))
    reports = []
    last = [0.0]

    def progress(status, text: str) -> None:
        if console.is_terminal:
            status.update(text)
        elif time.monotonic() - last[0] > 30:  # a log: a line every 30 s
            last[0] = time.monotonic()
            console.print(f"{time.strftime('%H:%M:%S')} {text}", markup=False, highlight=False)

    for lesson in selected_lessons(args.lessons, root):
        with console.status(f"Mutating {lesson.id} ({lesson.title})...") as status:
            report = mutate_lesson(
                lesson, root, jobs=args.jobs, equivalents=equivalents, all_specs=getattr(args, "all_specs", False),
                on_progress=lambda text: progress(status, text),
            )  # fmt: skip
        reports.append(report)
        console.print(
            f"{lesson.id}: {report.generated} generated, {report.killed} killed ({report.count('timeout')} by timeout), "
            f"{len(report.survivors)} survived ({report.count('uncovered')} not covered), {report.count('equivalent')} equivalent; "
            f"{100 * report.score:.1f}% in {report.seconds:.0f} s ({report.generated / max(report.seconds, 1e-9):.2f} mutants/s)",
            markup=False, soft_wrap=True,
        )  # fmt: skip
        table.add_row(
            lesson.id, str(report.generated), str(report.killed), str(report.count("timeout")), str(len(report.survivors)),
            str(report.count("uncovered")), str(report.count("equivalent")), f"{100 * report.score:.1f}",
            f"{report.seconds:.0f} s", "[green]yes[/]" if report.ok else "[red]no[/]",
        )  # fmt: skip
    console.print(table)
    if args.verbose:
        for report in reports:
            phases = ", ".join(f"{name} {seconds:g} s" for name, seconds in report.phases.items())
            slow = sum(r.how == "overlay" for r in report.results)
            console.print(
                f"{report.lesson.id} timeline (s): {phases}; then {slow} mutant(s) the slow way (the whole lesson on a mutated overlay)",
                markup=False, soft_wrap=True,
            )  # fmt: skip
            for result in report.survivors:
                m = result.mutant
                note = ", not covered" if result.status == "uncovered" else ""
                console.print(f"{m.location}  {m.original} -> {m.mutated}    ({m.kind}, {m.id}{note})", markup=False, highlight=False, soft_wrap=True)
    survivors_file = getattr(args, "survivors", None)
    if survivors_file:
        Path(survivors_file).write_text(survivors_toml(r for report in reports for r in report.survivors), encoding="utf-8")
        console.print(f"wrote {sum(len(r.survivors) for r in reports)} survivor(s) to {survivors_file}")
    failed = False
    for report in reports:
        for note in report.notes:
            console.print(f"! {report.lesson.id}: {note}", markup=False, soft_wrap=True)
        for problem in report.problems:
            console.print(f"✗ {report.lesson.id}: {problem}", markup=False, soft_wrap=True)
            failed = True
        if report.score < GOAL:
            console.print(f"[red]✗[/] {report.lesson.id}: {100 * report.score:.1f}% of the non-equivalent mutants killed (goal {100 * GOAL:.0f}%)")
            failed = failed or not getattr(args, "report_only", False)
    return 1 if failed else 0
