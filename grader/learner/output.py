"""What ``llmfs`` writes: lines and tables in the terminal, and files.

Every text that comes from a manifest, a spec, a learner or a path is printed **literally**: it goes into a
``rich.text.Text`` (never into a markup string), so ``counts[pair]`` keeps its brackets and ``[/tmp/x]`` is not
a closing tag. Styles are attached to whole pieces: ``line(("Hint:", "dim"), " ", hint)``. Files are written
atomically, and an output folder is checked before any work that would be lost if it cannot be written.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console(highlight=False)  # what a command was asked for, and why it failed
remarks = Console(stderr=True, highlight=False)  # side notes: which course was used, a file set aside

Piece = str | tuple[str, str]  # literal text, or (literal text, style)


def line(*pieces: Piece) -> Text:
    """One line of literal text: each piece a plain string or a (string, style) pair."""
    return Text.assemble(*((str(p[0]), p[1]) if isinstance(p, tuple) else str(p) for p in pieces))


def say(*pieces: Piece) -> None:
    console.print(line(*pieces))


def remark(*pieces: Piece) -> None:
    """A one-line note on stderr, out of the way of what the command prints."""
    remarks.print(line(("llmfs: ", "dim"), *pieces), soft_wrap=True)


def error(message: object) -> None:
    """A command's one-line failure: the first line of ``message``."""
    console.print(line(("error:", "red"), " ", str(message).strip().split("\n", 1)[0]), soft_wrap=True)


def table(title: str, columns: list[str], **options) -> Table:
    """A table whose title and headers are literal (add rows of ``line(...)`` or plain ``Text``)."""
    grid = Table(title=Text(title), title_justify="left", **options)
    for column in columns:
        grid.add_column(Text(column))
    return grid


def cell(text: object, style: str = "") -> Text:
    return Text(str(text), style=style)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` in one step (a temporary file renamed over it), so no reader ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def writable_folder(path: Path, what: str) -> Path:
    """``path`` as a folder that exists and takes new files: created if needed, checked before any work starts.

    ValueError in one line (naming ``what``, e.g. "--out") for a file in the way or a folder that cannot be written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {path} is a file, not a folder: give a folder (it is created if needed)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        raise ValueError(f"{what} {path} cannot be written ({exc.strerror or exc}): give another folder") from exc
    return path
