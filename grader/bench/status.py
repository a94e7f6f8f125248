"""``llmfs bench status``: how long a learner waits for ``llmfs status`` and ``llmfs next`` on the stubs.

Runs the commands as a learner does (a fresh process each, from inside the course) on a copy of the course's
``exercises/`` (``data/`` linked, nothing written into this checkout), each ``--repeat`` times, and prints the
median wall time with the spread:

- ``status`` cold: no kept results (``.llmfs/results.json`` removed first): every lesson runs, as every
  ``status`` and ``next`` did before results were kept;
- ``status`` warm: nothing changed since the last run, so nothing runs (goal: at most 2 s);
- ``status`` after an edit of one lesson's module (``--edit``, default L10, which nothing builds on): that
  lesson runs, and every lesson that builds on it (goal: about ``check LNN --fresh``, the lesson's own time);
- ``next`` on the stubs, cold and warm: stops at L01, the first unfinished lesson.

Figures are printed, never asserted; quote them with the load average the table's caption gives.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..learner.progress import RESULTS_FILE
from ..lessons import COURSE_ROOT, get_lesson


def copy_course(target: Path, root: Path = COURSE_ROOT) -> Path:
    """A learner's checkout: the exercises (stubs and specs) and the pytest configuration copied, data/ linked."""
    shutil.copytree(root / "exercises", target / "exercises", ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", ".*"))
    (target / "data").symlink_to(root / "data")
    if (root / "pyproject.toml").is_file():
        shutil.copyfile(root / "pyproject.toml", target / "pyproject.toml")
    return target


def llmfs(course: Path, *args: str) -> float:
    """Seconds for one ``llmfs ARGS`` run in ``course`` (a new process, as the learner's shell starts it)."""
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT), "COLUMNS": "120"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", *args], cwd=course, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"llmfs {' '.join(args)} exited {done.returncode}: {(done.stdout + done.stderr).strip()[-2000:]}")
    return took


def kept(course: Path) -> dict:
    """The kept results as stored: an entry that differs after a command (new key, new durations) was run by it."""
    try:
        return json.loads((course / RESULTS_FILE).read_text(encoding="utf-8"))["lessons"]
    except (OSError, ValueError, KeyError):
        return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmfs bench status", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (default 3); the median is shown")
    parser.add_argument("--edit", default="L10", help="the lesson whose module is edited (default L10)")
    args = parser.parse_args(argv)
    edited = get_lesson(args.edit, COURSE_ROOT)
    console = Console(soft_wrap=True, width=max(Console().width, 100))  # a piped log keeps whole lines
    rows: list[tuple[str, str, list[float]]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="llmfs-bench-status-") as scratch:
        course = copy_course(Path(scratch) / "course")
        results = course / RESULTS_FILE
        module = course / "exercises" / edited.package / edited.modules[0]

        def measure(*steps: tuple[str, object, tuple[str, ...]]) -> None:
            """Each (label, prepare, command) ``--repeat`` times; several steps take turns (A B A B ...), so that a
            change in the machine's load falls on each of them alike."""
            times: list[list[float]] = [[] for _ in steps]
            ran: list[set[str]] = [set() for _ in steps]
            for number in range(args.repeat):
                for index, (label, prepare, command) in enumerate(steps):
                    with console.status(f"{label} ({number + 1}/{args.repeat})..."):
                        prepare(number)
                        before = kept(course)
                        times[index].append(llmfs(course, *command))
                        after = kept(course)
                        ran[index].update(lesson for lesson, entry in after.items() if before.get(lesson) != entry)
            rows.extend((label, ", ".join(sorted(ran[index])) or "nothing", times[index]) for index, (label, _, _) in enumerate(steps))

        def cold(number: int) -> None:
            results.unlink(missing_ok=True)

        def unchanged(number: int) -> None:
            pass

        def edit(number: int) -> None:
            with module.open("a", encoding="utf-8") as handle:
                handle.write(f"\n# an edit ({number})\n")

        measure(("status, cold (nothing kept)", cold, ("status",)))
        measure(("status, warm (nothing changed)", unchanged, ("status",)))
        measure(
            (f"status, {edited.modules[0]} of {edited.id} edited", edit, ("status",)),
            (f"check {edited.id} --fresh (yardstick)", unchanged, ("check", edited.id, "--fresh")),
        )  # fmt: skip
        measure(("next on the stubs, cold", cold, ("next",)))
        measure(("next on the stubs, warm", unchanged, ("next",)))
    load_after = os.getloadavg()

    table = Table(title="llmfs status and next on the stubs (a new process each, wall time)", title_justify="left")
    for column in ("command", "lessons run", "median", "min - max"):
        table.add_column(column)
    for label, ran, times in rows:
        table.add_row(label, ran, f"{statistics.median(times):.2f} s", f"{min(times):.2f} - {max(times):.2f} s")
    table.caption = (
        f"{args.repeat} runs each on {os.cpu_count()} cores; load average (1, 5, 15 min) "
        f"{', '.join(f'{x:.1f}' for x in load_before)} before, {', '.join(f'{x:.1f}' for x in load_after)} after"
    )
    table.caption_justify = "left"
    console.print(table)
    console.print("goals: status warm at most 2 s; after an edit, about the edited lesson's own run; next stops at the first unfinished lesson")
    return 0
