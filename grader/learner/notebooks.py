"""Lesson notebooks: ``exercises/lNN/lesson.md``, MyST Markdown that jupytext turns into a Jupyter notebook.

A lesson notebook walks through the lesson's idea with the learner's own code and matplotlib figures. Its
first cell finds the course folder and calls :func:`setup_lesson`, which makes an unfinished stub read as
one line ("L03 softmax() is not implemented yet — ...") instead of a traceback, and lets the other cells
keep going. ``llmfs lesson L03`` writes the ``.ipynb`` (and can execute it); the course's own tests execute
every notebook on the reference, an overlay whose modules come from ``solutions/``, and fail on any error.
"""
from __future__ import annotations

import base64
import os
import sys
import tempfile
import warnings
from pathlib import Path

from ..lessons import COURSE_ROOT, Lesson, get_lesson
from ..sync import STUB_PATTERN

NOTEBOOK = "lesson.md"
FIGURES_VARIABLE = "LLMFS_FIGURES"  # where the course's tests save the figures of executed notebooks



# --- inside the notebook's kernel -------------------------------------------------------------------------


class _StubReporter:
    """Turns a stub's NotImplementedError into one line, and lets "Run all" go on past it.

    IPython calls :meth:`handle` for the exception types registered with ``set_custom_exc``; an exception
    it explains becomes one printed line, anything else gets IPython's usual traceback. After the cell,
    :meth:`after_cell` clears an explained error from the cell's result, so the kernel answers "ok" and a
    front end (or nbclient) runs the next cell instead of stopping.
    """

    def __init__(self) -> None:
        self.missing: list[str] = []  # "L03 softmax()", in the order the cells met them
        self.explained: BaseException | None = None

    def explain(self, error: BaseException) -> str | None:
        if isinstance(error, NotImplementedError):
            found = STUB_PATTERN.match(str(error))
            if found is None:
                return None
            lesson, function, path, package = found.groups()
            self.missing.append(f"{lesson} {function}()")
            return (
                f"⏸ {lesson} {function}() is not implemented yet — write it in {path}, "
                f"then run `pytest exercises/{package} -x`."
            )
        if isinstance(error, NameError) and self.missing:
            return f"⏸ skipped: this cell needs a result of a cell above that stopped at {self.missing[-1]}."
        return None

    def handle(self, shell, etype, value, tb, tb_offset=None):  # IPython's CustomTB signature
        line = self.explain(value)
        if line is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
            return None
        self.explained = value
        print(line)
        return None

    def after_cell(self, result) -> None:
        if result is not None and self.explained is not None and result.error_in_exec is self.explained:
            result.error_in_exec = None
        self.explained = None


def find_course_root(package: str, start: Path | None = None) -> Path:
    """The folder holding ``exercises/<package>``: the nearest above ``start`` (default: the working
    directory, where Jupyter starts the kernel: the notebook's folder), else on ``sys.path``, else the
    course this grader belongs to."""
    here = Path.cwd() if start is None else start
    candidates = [here, *here.parents] + [Path(p) for p in sys.path if p] + [COURSE_ROOT]
    for folder in candidates:
        if (folder / "exercises" / package / "lesson.toml").is_file():
            return folder.resolve()
    raise FileNotFoundError(f"no exercises/{package}/lesson.toml above {here}: open the notebook inside the course folder")


def setup_lesson(lesson: str) -> Path:
    """The first cell of every lesson notebook: returns the course root (``ROOT / "data"`` is the data).

    Puts the course root first on ``sys.path`` (so ``exercises.l03`` is the learner's code), registers
    the one-line report for unfinished stubs, draws figures inline, and reloads edited modules before each
    cell (``%autoreload 2``), so fixing a function and re-running a cell uses the fix.
    """
    package = f"l{int(lesson.lstrip('Ll')):02d}"
    root = find_course_root(package)
    if sys.path[:1] != [str(root)]:
        sys.path.insert(0, str(root))
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:  # a plain Python process (e.g. a test importing the notebook's code): nothing to set up
        return root
    if not isinstance(getattr(shell, "_llmfs_stub_reporter", None), _StubReporter):
        reporter = _StubReporter()
        shell._llmfs_stub_reporter = reporter
        shell.set_custom_exc((NotImplementedError, NameError), reporter.handle)
        # trio (imported by some libraries) warns that it cannot install its own handler next to this one.
        warnings.filterwarnings("ignore", message="IPython detected, but you already have a custom exception handler")
        shell.events.register("post_run_cell", reporter.after_cell)
        shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")
    shell.run_line_magic("matplotlib", "inline")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})
    return root


# --- outside: reading, writing and executing the notebooks -------------------------------------------------


def notebook_path(lesson: Lesson, root: Path = COURSE_ROOT) -> Path:
    return root / "exercises" / lesson.package / NOTEBOOK


def read_notebook(path: Path):
    """A lesson's MyST Markdown as an ``nbformat`` notebook."""
    import jupytext

    return jupytext.read(path)


def write_ipynb(lesson: Lesson, root: Path = COURSE_ROOT, out: Path | None = None, notebook=None) -> Path:
    """Write the lesson as ``lesson.ipynb`` next to its ``lesson.md`` (or into the folder ``out``)."""
    import nbformat

    source = notebook_path(lesson, root)
    if not source.is_file():
        raise ValueError(f"{lesson.id} has no notebook: {source} does not exist")
    target = source.with_suffix(".ipynb") if out is None else Path(out) / f"{lesson.package}-lesson.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(read_notebook(source) if notebook is None else notebook, target)
    return target


def kernel_env(root: Path = COURSE_ROOT, threads: int | None = None) -> dict[str, str]:
    """The kernel's environment: this grader importable, figures drawn inline, nothing written into the tree.

    threads: PyTorch's CPU threads. A notebook's tensors are small, and on a busy machine two threads
    spinning on each tiny op can be ten times slower than one.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "PYTHONPATH")}
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def execute_notebook(
    notebook, cwd: Path, *, timeout: float = 300, allow_errors: bool = False, root: Path = COURSE_ROOT, threads: int | None = None
):
    """Run every cell in a fresh kernel whose working directory is ``cwd``; return the notebook with outputs.

    Raises nbclient's CellExecutionError at the first cell that fails, unless ``allow_errors``.
    """
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )  # fmt: skip
    return client.execute(env=kernel_env(root, threads))


def execute_lesson(
    lesson: Lesson, workdir: Path, *, reference: bool = True, root: Path = COURSE_ROOT, timeout: float = 300, threads: int | None = 1
):
    """Execute a lesson's notebook in an overlay built in ``workdir``: on the reference, or on the stubs."""
    from ..sandbox.overlay import build_overlay, reference_sources

    tree = build_overlay(Path(workdir), sources=reference_sources(root) if reference else {}, course_root=root)
    folder = tree / "exercises" / lesson.package
    return execute_notebook(read_notebook(folder / NOTEBOOK), folder, timeout=timeout, root=root, threads=threads)


def outputs(notebook, output_type: str | None = None):
    """(cell index, output) for every output of every code cell, optionally of one type."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output_type is None or output.output_type == output_type:
                yield index, output


def text_of(notebook) -> str:
    """Everything the cells printed or displayed as text, one output after another."""
    parts = []
    for _, output in outputs(notebook):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
        elif "text/plain" in output.get("data", {}):
            parts.append(output.data["text/plain"])
    return "\n".join(parts)


def save_figures(notebook, folder: Path, prefix: str) -> list[Path]:
    """Write every PNG the notebook displayed as ``<prefix>-cell<NN>[-k].png``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    count: dict[int, int] = {}
    for index, output in outputs(notebook):
        png = output.get("data", {}).get("image/png")
        if png is None:
            continue
        count[index] = count.get(index, 0) + 1
        suffix = f"-{count[index]}" if count[index] > 1 else ""
        path = folder / f"{prefix}-cell{index:02d}{suffix}.png"
        path.write_bytes(base64.b64decode(png))
        saved.append(path)
    return saved


def figures_folder() -> Path:
    """Where the course's tests save figures: ``$LLMFS_FIGURES``, else ``<tmp>/llmfs-figures``."""
    return Path(os.environ.get(FIGURES_VARIABLE) or Path(tempfile.gettempdir()) / "llmfs-figures")


def lesson_command(lesson: str, root: Path = COURSE_ROOT, out: Path | None = None, execute: bool = False, console=None) -> int:
    """``llmfs lesson L03 [--out DIR] [--execute]``: write the lesson's notebook as .ipynb and say how to open it.

    With ``execute``, run it first on the learner's own code (cells of unfinished functions say so in one
    line), so the saved notebook holds the figures.
    """
    from .output import console as default_console, line, writable_folder

    console = console or default_console
    found = get_lesson(lesson, root)
    source = notebook_path(found, root)
    if not source.is_file():
        raise ValueError(f"{found.id} has no notebook yet ({source.relative_to(root)} does not exist)")
    writable_folder(source.parent if out is None else out, "--out")  # before running anything
    notebook = read_notebook(source)
    if execute:
        with console.status(line(f"Running {source.relative_to(root)} on your code...")):
            notebook = execute_notebook(notebook, source.parent, allow_errors=True, root=root)
        failed = sorted({index for index, _ in outputs(notebook, "error")})
        for text in dict.fromkeys(text for text in text_of(notebook).splitlines() if text.startswith("⏸ L")):
            console.print(line((text, "yellow")))
        if failed:
            cells = ", ".join(map(str, failed))
            console.print(line((f"{len(failed)} cell(s) raised an error", "red"), f" (cells {cells}): open the notebook to see them."))
    target = write_ipynb(found, root, out, notebook)
    shown = target.relative_to(root) if target.is_relative_to(root) else target
    console.print(line(f"Wrote {shown}" + (" (executed)" if execute else "")))
    console.print(line("Open it: ", (f"jupyter lab {shown}", "cyan"), "  (or open it in VS Code; run the first cell first)"))
    return 0
