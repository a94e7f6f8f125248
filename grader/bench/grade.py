"""``llmfs bench grade``: grading 20 synthetic submissions against running the same specs with plain pytest.

Each synthetic learner has attempted every lesson: per lesson, the reference or one of its mutants (chosen
with a seeded generator), with a comment naming the learner so that no two submissions are byte-identical to
each other or to the reference (real learners' code never is). The baseline runs ``pytest exercises`` once
per submission, one after the other, in a full copy of the course holding that learner's modules. The grader
runs every lesson the learner touched in isolation, each run sandboxed, ``--jobs`` at a time (``--cumulative``
adds the run on the learner's own chain where it differs). The reference's time per lesson, which sets the time
budget, is measured on the first run and kept (``--fresh`` measures it again, as on a new machine).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..grading.grade import Course, Settings, default_sandbox, grade
from ..lessons import COURSE_ROOT
from ..selfcheck import load_mutants


def make_submissions(folder: Path, count: int, seed: int = 0, root: Path = COURSE_ROOT) -> list[Path]:
    """``count`` learner folders, each with every lesson's modules from the reference or one of its mutants."""
    rng = random.Random(seed)
    course = Course(root)
    paths = []
    for number in range(1, count + 1):
        learner = folder / f"learner{number:02d}"
        for lesson in course.lessons:
            mutants = load_mutants(lesson.package, root)
            chosen = rng.choice([None, None, *mutants])  # a third or more of the lessons correct
            for module in lesson.modules:
                text = (root / "solutions" / lesson.package / module).read_text(encoding="utf-8")
                if chosen is not None and chosen.target == module:
                    text = chosen.module_text(text)
                target = learner / "exercises" / lesson.package / module
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"{text}\n# {learner.name}\n", encoding="utf-8")
        paths.append(learner)
    return paths


def plain_pytest(submissions: list[Path], scratch: Path, root: Path = COURSE_ROOT) -> float:
    """Seconds to run ``pytest exercises`` over each submission in turn, in a copy of the course."""
    start = time.perf_counter()
    for submission in submissions:
        tree = scratch / f"plain-{submission.name}"
        shutil.copytree(root / "exercises", tree / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
        (tree / "data").symlink_to(root / "data")
        shutil.copytree(submission / "exercises", tree / "exercises", dirs_exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"],
            cwd=tree, capture_output=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmfs bench grade", description=__doc__)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cumulative", action="store_true", help="grade the learner's own chain too")
    parser.add_argument("--fresh", action="store_true", help="measure the reference's time again (an empty cache)")
    args = parser.parse_args(argv)
    console = Console(soft_wrap=True)  # a piped log keeps whole lines
    with tempfile.TemporaryDirectory(prefix="llmfs-bench-grade-") as scratch:
        scratch = Path(scratch)
        os.chmod(scratch, 0o755)
        submissions = make_submissions(scratch / "submissions", args.submissions)
        with console.status(f"plain pytest over {len(submissions)} submissions, one after the other..."):
            baseline = plain_pytest(submissions, scratch)
        with console.status(f"llmfs grade over {len(submissions)} submissions on {args.jobs} cores..."):
            start = time.perf_counter()
            if args.fresh:
                os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")
            graded = grade(submissions, settings=Settings(jobs=args.jobs, sandbox=default_sandbox(), cumulative=args.cumulative))
            ours = time.perf_counter() - start
    table = Table(title=f"Grading {len(graded)} synthetic submissions of the full course", title_justify="left")
    for column in ("", "wall time", "ratio"):
        table.add_column(column)
    table.add_row("plain pytest, serial (1 run per submission)", f"{baseline:.1f} s", "1.00x")
    runs = "isolated + cumulative" if args.cumulative else "isolated"
    cache = "reference timed afresh" if args.fresh else "reference times kept"
    table.add_row(f"llmfs grade, {args.jobs} jobs ({runs}, sandboxed, {cache})", f"{ours:.1f} s", f"{ours / baseline:.2f}x")
    console.print(table)
    scores = ", ".join(f"{result['score']:g}" for result in graded)
    console.print(f"goal: at most 0.75x the serial pytest time.  Scores out of {graded[0]['max_score']:g}: {scores}")
    return 0
