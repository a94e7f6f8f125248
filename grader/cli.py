"""``llmfs``: the course's command line (also ``python -m grader``)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table

from . import selfcheck, sync
from .learner import progress
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


def _first_unfinished(root: Path):
    """The earliest lesson that is not all green (by the last recorded status), else the last lesson."""
    lessons = load_lessons(root)
    recorded = progress.State(root).load()["lessons"]
    for lesson in lessons:
        entry = recorded.get(lesson.id, {})
        if entry.get("passed") != entry.get("total") or not entry:
            return lesson
    return lessons[-1]


def print_check(item: progress.LessonProgress) -> None:
    """Stages in order: green ones ticked, then the first red spec with its message and first hint; then stop."""
    console.print(f"[bold]{item.lesson.id} {item.lesson.title}[/]  {item.passed}/{item.total} specs")
    for number, (stage, results) in enumerate(progress.stage_report(item), start=1):
        red = next((r for r in results if not r.passed), None)
        if red is None:
            console.print(f"  [green]✓[/] {number}. {stage.title}")
            continue
        done = sum(r.passed for r in results)
        console.print(f"  [red]✗[/] {number}. {stage.title} ({done}/{len(results)})")
        console.print(f"      {red.spec}")
        console.print(f"      [yellow]{red.message or red.outcome}[/]")
        console.print(f"      [dim]Hint:[/] {stage.hints[0]}" if stage.hints else "")
        console.print(f"      Next: fix it, then `llmfs check {item.lesson.id}` (more help: llmfs hint {item.lesson.id} {stage.name})")
        return
    console.print(f"[green]{item.lesson.id} is complete.[/]")


def cmd_check(args: argparse.Namespace) -> int:
    lesson = get_lesson(args.lesson, args.root)
    (item,) = progress.measure([lesson], args.root)
    print_check(item)
    return 0 if item.done else 1


def cmd_watch(args: argparse.Namespace) -> int:
    lesson = get_lesson(args.lesson, args.root) if args.lesson else _first_unfinished(args.root)
    folder = args.root / "exercises" / lesson.package
    console.print(f"Watching {folder} (Ctrl-C to stop)")
    seen = None
    try:
        while True:
            stamp = sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.py"))
            if stamp != seen:
                seen = stamp
                (item,) = progress.measure([lesson], args.root)
                console.clear()
                console.print(f"[dim]llmfs watch · {time.strftime('%H:%M:%S')} · save a file to re-run[/]\n")
                print_check(item)
                if args.once:
                    return 0 if item.done else 1
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    table = Table(title="llmfs doctor", title_justify="left")
    for column in ("Check", "", "Detail"):
        table.add_column(column)
    checks = run_checks(args.root)
    for check in checks:
        table.add_row(check.name, "[green]OK[/]" if check.ok else "[red]problem[/]", check.detail)
    console.print(table)
    return 0 if all(check.ok for check in checks) else 1


def cmd_release(args: argparse.Namespace) -> int:
    from .grading.release import release

    out = release(args.out, args.root, branch=args.branch)
    console.print(f"Learner version written to {out}" + (f" and committed as branch {args.branch}" if args.branch else ""))
    return 0


def _instructor_only(args: argparse.Namespace) -> None:
    if not (args.root / "solutions").is_dir():
        raise ManifestError(f"`llmfs {args.command}` is for instructors: {args.root} has no solutions/ (this is the learner version)")


def cmd_sync(args: argparse.Namespace) -> int:
    _instructor_only(args)
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
    _instructor_only(args)
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
        mutants = Table(title="Mutants: the classic mistakes, and the spec that catches each", title_justify="left")
        for column in ("Lesson", "Mutant", "Mistake", "Caught by"):
            mutants.add_column(column)
        for check in checks:
            for name, caught in check.mutants.items():
                mutants.add_row(check.lesson.id, name, check.mutant_descriptions[name], caught[0] if caught else "[red]nothing[/]")
        console.print(mutants)
    for check in checks:
        problems += [f"{check.lesson.id}: {p}" for p in check.problems]
    for problem in problems:
        console.print(f"[red]✗[/] {problem}")
    return 1 if problems else 0


def cmd_grade(args: argparse.Namespace) -> int:
    _instructor_only(args)
    from .grading.grade import Course, Settings, default_sandbox, grade, submissions_in, write_results

    paths = [p for folder in args.submissions for p in (submissions_in(folder) if folder.is_dir() and not _is_submission(folder) else [folder])]
    if not paths:
        console.print(f"[red]error:[/] no submissions (folders, .zip files or git repositories) in {', '.join(map(str, args.submissions))}")
        return 2
    settings = Settings(spec_timeout=args.timeout, run_timeout=args.run_timeout, jobs=args.jobs or os.cpu_count() or 1, sandbox=default_sandbox())
    with console.status(f"Grading {len(paths)} submission(s) on {settings.jobs} core(s)...") as status:
        graded = grade(paths, course=Course(args.root), settings=settings, on_progress=lambda text: status.update(f"Graded {text}"))
    write_results(graded, args.out)
    table = Table(title=f"Grades ({args.out})", title_justify="left")
    for column in ("Learner", "Score", *(lesson.id for lesson in load_lessons(args.root)), "Problems"):
        table.add_column(column)
    for result in graded:
        cells = [f"{item['score']:g}/{item['max_score']:g}" for item in result["lessons"]]
        table.add_row(result["learner"], f"{result['score']:g}/{result['max_score']:g}", *cells, str(len(result["errors"])) if result["errors"] else "")
    console.print(table)
    return 0


def _is_submission(folder: Path) -> bool:
    return (folder / "exercises").is_dir() or (folder / ".git").exists()


def cmd_roster(args: argparse.Namespace) -> int:
    from .grading.roster import roster_command

    return roster_command(args.dir, args.watch, args.interval, args.html, lessons=load_lessons(args.root), console=console)


def cmd_lesson(args: argparse.Namespace) -> int:
    from .learner.notebooks import lesson_command

    return lesson_command(args.lesson, root=args.root, out=args.out, execute=args.execute, console=console)


def cmd_nbgrader(args: argparse.Namespace) -> int:
    _instructor_only(args)
    from .grading.nbgrader_export import nbgrader_command

    return nbgrader_command(args.out, root=args.root, lessons=args.lessons or None, console=console)


def cmd_bench(args: argparse.Namespace) -> int:
    _instructor_only(args)
    from .bench import run_benchmark

    return run_benchmark(args.target, args.rest)


def cmd_chat(args: argparse.Namespace) -> int:
    from .learner.chat import main as chat_main

    return chat_main(args.rest, root=args.root)


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
    check_parser = sub.add_parser("check", help="a lesson's specs in stage order, stopping at the first red one")
    check_parser.add_argument("lesson", help="e.g. L03")
    check_parser.set_defaults(func=cmd_check)
    watch = sub.add_parser("watch", help="re-run a lesson (default: your current one) on every file save")
    watch.add_argument("lesson", nargs="?", help="e.g. L03")
    watch.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    watch.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    watch.set_defaults(func=cmd_watch)
    sub.add_parser("doctor", help="Python, torch, devices and every dependency: OK or what is wrong").set_defaults(func=cmd_doctor)
    release_parser = sub.add_parser("release", help="write the learner version (no solutions, no mutants) into OUT")
    release_parser.add_argument("out", type=Path, help="a new, empty folder")
    release_parser.add_argument("--branch", default=None, help="also commit it as this (orphan) branch of the course repository")
    release_parser.set_defaults(func=cmd_release)
    lesson_parser = sub.add_parser("lesson", help="a lesson's notebook as .ipynb (figures on your code); --execute runs it")
    lesson_parser.add_argument("lesson", help="e.g. L03")
    lesson_parser.add_argument("--out", type=Path, default=None, help="folder for the .ipynb (default: next to lesson.md)")
    lesson_parser.add_argument("--execute", action="store_true", help="run every cell and save the outputs")
    lesson_parser.set_defaults(func=cmd_lesson)
    nbgrader_parser = sub.add_parser("nbgrader", help="export the course as an nbgrader course directory (instructors)")
    nbgrader_parser.add_argument("out", type=Path, help="a new folder for the nbgrader course")
    nbgrader_parser.add_argument("lessons", nargs="*", help="e.g. L01 L03 (default: all)")
    nbgrader_parser.set_defaults(func=cmd_nbgrader)
    sync_parser = sub.add_parser("sync", help="regenerate exercises/ stubs from solutions/ (instructors)")
    sync_parser.add_argument("--check", action="store_true", help="only report what is out of sync")
    sync_parser.set_defaults(func=cmd_sync)
    check = sub.add_parser("selfcheck", help="prove the specs: red on stubs, green on the reference, mutants caught")
    check.add_argument("lessons", nargs="*", help="e.g. L01 L03 (default: all)")
    check.add_argument("-j", "--jobs", type=int, default=None, help="parallel spec runs (default: CPU count)")
    check.add_argument("-v", "--verbose", action="store_true", help="list which specs catch each mutant")
    check.set_defaults(func=cmd_selfcheck)
    grade_parser = sub.add_parser("grade", help="grade a folder of submissions (folders, .zip files, git repositories)")
    grade_parser.add_argument("submissions", nargs="+", type=Path, help="a folder of submissions, or submissions")
    grade_parser.add_argument("--out", type=Path, required=True, help="where the reports go")
    grade_parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel runs (default: CPU count)")
    grade_parser.add_argument("--timeout", type=float, default=60.0, help="seconds per spec (default 60)")
    grade_parser.add_argument("--run-timeout", type=float, default=900.0, help="seconds per lesson run (default 900)")
    grade_parser.set_defaults(func=cmd_grade)
    roster = sub.add_parser("roster", help="workshops: learners x lessons from checkouts or results files")
    roster.add_argument("dir", type=Path, help="a folder of learners' checkouts and/or results .json files")
    roster.add_argument("--watch", action="store_true", help="refresh until Ctrl-C")
    roster.add_argument("--interval", type=float, default=5.0, help="seconds between refreshes (default 5)")
    roster.add_argument("--html", type=Path, default=None, help="also write an HTML page to project")
    roster.set_defaults(func=cmd_roster)
    bench = sub.add_parser("bench", help="benchmarks of the reference against independent implementations")
    bench.add_argument("target", help="tokenizer | model | train | generate | finetune | grade")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    bench.set_defaults(func=cmd_bench)
    # `llmfs chat ...` goes to grader.learner.chat before parsing (see main), so its options may come first.
    chat = sub.add_parser("chat", help="talk to a checkpoint in the terminal with your L10 code (llmfs chat CHECKPOINT --help)")
    chat.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    chat.set_defaults(func=cmd_chat)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["chat"]:  # its own options (L09's sampling flags), parsed by the chat itself
        return cmd_chat(argparse.Namespace(rest=argv[1:], root=COURSE_ROOT))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ManifestError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
