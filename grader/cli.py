"""``llmfs``: the course's command line (also ``python -m grader``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table

from . import progress, selfcheck, sync
from .lessons import COURSE_ROOT, ManifestError, get_lesson, load_lessons

console = Console(highlight=False)


def _bar(done: int, total: int) -> ProgressBar:
    return ProgressBar(total=max(total, 1), completed=done, width=20)


def cmd_status(args: argparse.Namespace) -> int:
    lessons = load_lessons(args.root)
    with console.status("Running your specs..."):
        results = progress.measure(lessons, args.root)
    table = Table(title="LLM From Scratch: your progress", title_justify="left")
    for column in ("Lesson", "Title", "Specs", "Points", "Progress", "Builds on"):
        table.add_column(column)
    for item in results:
        colour = "green" if item.done else ("yellow" if item.passed else "red")
        table.add_row(
            item.lesson.id,
            item.lesson.title,
            f"[{colour}]{item.passed}/{item.total}[/]",
            f"{item.points:g}/{item.lesson.points:g}",
            _bar(item.passed, item.total),
            ", ".join(item.lesson.depends) or "-",
        )
    console.print(table)
    _print_next(progress.next_step(results), args.root)
    return 0


def _print_next(step, root: Path) -> None:
    if step is None:
        console.print("[green]Every spec is green. Well done![/]")
        return
    item, red, stage = step
    number = item.lesson.stages.index(stage) + 1
    console.print(f"\n[bold]Next:[/] {item.lesson.id} stage {number} ({stage.title}): [cyan]{red.spec}[/]")
    console.print(f"  {red.message or red.outcome}")
    if stage.hints:
        console.print(f"  [dim]Hint:[/] {stage.hints[0]}")
    console.print(f"  Run it: pytest exercises/{item.lesson.package} -x   More help: llmfs hint {item.lesson.id}")


def cmd_next(args: argparse.Namespace) -> int:
    _print_next(progress.next_step(progress.measure(load_lessons(args.root), args.root)), args.root)
    return 0


def cmd_hint(args: argparse.Namespace) -> int:
    lesson = get_lesson(args.lesson, args.root)
    if args.stage:
        stage = lesson.stage(args.stage)
    else:  # the stage of the first red spec of this lesson
        (item,) = progress.measure([lesson], args.root)
        red = item.first_red
        if red is None:
            console.print(f"[green]{lesson.id} is all green: no hint needed.[/]")
            return 0
        stage = lesson.stage_of(red.spec)
    step, text = progress.State(args.root).climb_hint(lesson, stage)
    console.print(f"[bold]{lesson.id} · {stage.title}[/] — hint {step} of {len(stage.hints)}")
    console.print(f"  {text}")
    if step < len(stage.hints):
        console.print(f"  [dim](run `llmfs hint {lesson.id} {stage.name}` again for the next one)[/]")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    if args.check:
        stale = sync.out_of_sync(args.root)
        for path in stale:
            console.print(f"[red]out of sync:[/] {path}")
        console.print("exercises/ is in sync with solutions/" if not stale else "run: llmfs sync")
        return 1 if stale else 0
    written = sync.sync(args.root)
    for path in written:
        console.print(f"wrote {path.relative_to(args.root)}")
    console.print(f"{len(written)} file(s) regenerated; exercises/ is in sync with solutions/")
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    problems = selfcheck.check_sync(args.root)
    table = Table(title="Self-check: the course tests itself", title_justify="left")
    for column in ("Lesson", "Specs", "Fail on stub", "Pass on reference", "Mutants caught", "OK"):
        table.add_column(column)
    checks = []
    for lesson in selfcheck.selected_lessons(args.lessons, args.root):
        with console.status(f"Checking {lesson.id} ({lesson.title})..."):
            check = selfcheck.check_lesson(lesson, args.root, jobs=args.jobs)
        checks.append(check)
        n = len(lesson.specs)
        table.add_row(
            lesson.id, str(n), f"{check.stub_red}/{n}", f"{check.reference_green}/{n}",
            f"{check.mutants_caught}/{len(check.mutants)}", "[green]yes[/]" if check.ok else "[red]no[/]",
        )  # fmt: skip
    console.print(table)
    if args.verbose:
        for check in checks:
            for name, caught in check.mutants.items():
                console.print(f"  {check.lesson.id} mutant {name}: {check.mutant_descriptions[name]} -> caught by {', '.join(caught) or 'NOTHING'}")
    for check in checks:
        problems += [f"{check.lesson.id}: {p}" for p in check.problems]
    for problem in problems:
        console.print(f"[red]✗[/] {problem}")
    return 1 if problems else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmark

    return run_benchmark(args.target, args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmfs", description="LLM From Scratch: progress, self-check and tools.")
    parser.add_argument("--root", type=Path, default=COURSE_ROOT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("status", help="every lesson: specs passing, points, progress; then the next step").set_defaults(func=cmd_status)
    sub.add_parser("next", help="the first red spec of the earliest unfinished lesson, with its first hint").set_defaults(func=cmd_next)
    hint = sub.add_parser("hint", help="the next hint of a stage's ladder (one step per call)")
    hint.add_argument("lesson", help="e.g. L03")
    hint.add_argument("stage", nargs="?", help="stage name or number (default: the stage of your first red spec)")
    hint.set_defaults(func=cmd_hint)
    sync_parser = sub.add_parser("sync", help="regenerate exercises/ stubs from solutions/ (instructors)")
    sync_parser.add_argument("--check", action="store_true", help="only report what is out of sync")
    sync_parser.set_defaults(func=cmd_sync)
    check = sub.add_parser("selfcheck", help="prove the specs: red on stubs, green on the reference, mutants caught")
    check.add_argument("lessons", nargs="*", help="e.g. L01 L03 (default: all)")
    check.add_argument("-j", "--jobs", type=int, default=None, help="parallel spec runs (default: CPU count)")
    check.add_argument("-v", "--verbose", action="store_true", help="list which specs catch each mutant")
    check.set_defaults(func=cmd_selfcheck)
    bench = sub.add_parser("bench", help="benchmarks of the reference against independent implementations")
    bench.add_argument("target", help="tokenizer | model | ...")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ManifestError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
