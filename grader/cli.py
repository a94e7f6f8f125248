"""``llmfs``: the course's command line (also ``python -m grader``).

Each command parses, does its work through the modules that own it, and prints with
:mod:`grader.learner.output` (text from manifests, specs, learners and paths printed literally).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .learner.output import cell, console, error, line, remark, say, table, writable_folder
from .lessons import COURSE_ROOT, ManifestError, find_course, get_lesson, is_course, load_lessons


def cmd_status(args: argparse.Namespace) -> int:
    from .learner import progress, views

    lessons = load_lessons(args.root)
    if args.fresh:
        progress.ResultCache(args.root, lessons).forget(lessons)
    with console.status("Running your specs..."):
        results = progress.measure(lessons, args.root)
    console.print(views.status_table(results))
    if (note := views.kept_note(results, "status")) is not None:
        console.print(note)
    console.print(views.next_spec(progress.next_step(results)))
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    from .learner import progress, views

    with console.status("Running your specs, lesson by lesson..."):
        results = progress.measure_until_unfinished(load_lessons(args.root), args.root, fresh=args.fresh)
    console.print(views.next_spec(progress.next_step(results)))
    return 0


def cmd_hint(args: argparse.Namespace) -> int:
    from .learner import progress, views

    lesson = get_lesson(args.lesson, args.root)
    if args.stage:
        stage = lesson.stage(args.stage)
    else:  # the stage of the first red spec of this lesson
        (item,) = progress.measure([lesson], args.root)
        if item.first_red is None:
            console.print(views.all_green(lesson))
            return 0
        stage = lesson.stage_of(item.first_red.spec)
    if not stage.hints:
        raise ManifestError(f"{lesson.id} stage {stage.name!r} has no hints: its README section explains it")
    console.print(views.hint(lesson, stage, *progress.State(args.root).climb_hint(lesson, stage)))
    return 0


def _first_unfinished(root: Path):
    """The earliest lesson that is not all green (by the last recorded status), else the last lesson."""
    from .learner import progress

    lessons = load_lessons(root)
    recorded = progress.State(root).load()["lessons"]
    for lesson in lessons:
        entry = recorded.get(lesson.id, {})
        if entry.get("passed") != entry.get("total") or not entry:
            return lesson
    return lessons[-1]


def cmd_check(args: argparse.Namespace) -> int:
    from .learner import progress, views

    lesson = get_lesson(args.lesson, args.root)
    if args.fresh:
        progress.ResultCache(args.root, [lesson]).forget([lesson])
    (item,) = progress.measure([lesson], args.root)
    console.print(views.check(item))
    if (note := views.kept_note([item], f"check {lesson.id}")) is not None:
        console.print(note)
    return 0 if item.done else 1


def cmd_watch(args: argparse.Namespace) -> int:
    from .learner import progress, views

    lesson = get_lesson(args.lesson, args.root) if args.lesson else _first_unfinished(args.root)
    folder = args.root / "exercises" / lesson.package
    say(f"Watching {folder} and the lessons it builds on (Ctrl-C to stop)")
    seen = None
    try:
        while True:
            stamp = progress.ResultCache(args.root, [lesson]).key(lesson)  # what its results depend on, by content
            if stamp != seen:
                seen = stamp
                (item,) = progress.measure([lesson], args.root)
                console.clear()
                say((f"llmfs watch · {time.strftime('%H:%M:%S')} · save a file to re-run\n", "dim"))
                console.print(views.check(item))
                if args.once:
                    return 0 if item.done else 1
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    grid = table("llmfs doctor", ["Check", "", "Detail"])
    checks = run_checks(args.root)
    for check in checks:
        grid.add_row(cell(check.name), cell("OK", "green") if check.ok else cell("problem", "red"), cell(check.detail))
    console.print(grid)
    return 0 if all(check.ok for check in checks) else 1


def cmd_release(args: argparse.Namespace) -> int:
    from .grading.release import release

    out = release(args.out, args.root, branch=args.branch, force=args.force)
    say(f"Learner version written to {out}" + (f" and committed as branch {args.branch}" if args.branch else ""))
    return 0


def _instructor_only(args: argparse.Namespace) -> None:
    if not (args.root / "solutions").is_dir():
        raise ManifestError(f"`llmfs {args.command}` is for instructors: {args.root} has no solutions/ (this is the learner version)")


def cmd_sync(args: argparse.Namespace) -> int:
    from . import sync

    _instructor_only(args)
    if args.check:
        stale = sync.out_of_sync(args.root)
        for path in stale:
            say(("out of sync:", "red"), f" {path}")
        say("exercises/ is in sync with solutions/" if not stale else "run: llmfs sync")
        return 1 if stale else 0
    written = sync.sync(args.root)
    for path in written:
        say(f"wrote {path.relative_to(args.root)}")
    say(f"{len(written)} file(s) regenerated; exercises/ is in sync with solutions/")
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    _instructor_only(args)
    if args.mutate:
        from . import selfcheck_mutate

        return selfcheck_mutate.command(args, console)
    from . import selfcheck

    problems = selfcheck.check_sync(args.root)
    grid = table("Self-check: the course tests itself", ["Lesson", "Specs", "Fail on stub", "Pass on reference", "Mutants caught", "OK"])
    checks = []
    for lesson in selfcheck.selected_lessons(args.lessons, args.root):
        with console.status(line(f"Checking {lesson.id} ({lesson.title})...")):
            check = selfcheck.check_lesson(lesson, args.root, jobs=args.jobs)
        checks.append(check)
        n = len(lesson.specs)
        counts = (n, f"{check.stub_red}/{n}", f"{check.reference_green}/{n}", f"{check.mutants_caught}/{len(check.mutants)}")
        grid.add_row(cell(lesson.id), *map(cell, counts), cell("yes", "green") if check.ok else cell("no", "red"))
    console.print(grid)
    if args.verbose:
        mutants = table("Mutants: the classic mistakes, and the spec that catches each", ["Lesson", "Mutant", "Mistake", "Caught by"])
        mutants.columns[3].overflow = "fold"  # a spec id has no spaces to wrap at: fold it rather than cut it
        for check in checks:
            for name, caught in check.mutants.items():
                mutants.add_row(cell(check.lesson.id), cell(name), cell(check.mutant_descriptions[name]), cell(caught[0]) if caught else cell("nothing", "red"))
        console.print(mutants)
    for check in checks:
        problems += [f"{check.lesson.id}: {p}" for p in check.problems]
    for problem in problems:
        say(("✗", "red"), f" {problem}")
    return 1 if problems else 0


def cmd_grade(args: argparse.Namespace) -> int:
    _instructor_only(args)
    missing = [str(path) for path in args.submissions if not path.exists()]
    if missing:
        raise ValueError(f"no such submission: {', '.join(missing)} (give folders, .zip files or git repositories)")
    writable_folder(args.out, "--out")  # before the grading, so that no work is lost
    from .grading.grade import Course, Settings, default_sandbox, grade, submissions_in, write_results

    paths = [p for folder in args.submissions for p in (submissions_in(folder) if folder.is_dir() and not _is_submission(folder) else [folder])]
    if not paths:
        raise ValueError(f"no submissions (folders, .zip files or git repositories) in {', '.join(map(str, args.submissions))}")
    settings = Settings(
        spec_timeout=args.timeout, run_timeout=args.run_timeout, jobs=args.jobs or os.cpu_count() or 1,
        sandbox=default_sandbox(), cumulative=args.cumulative,
    )  # fmt: skip
    with console.status(line(f"Grading {len(paths)} submission(s) on {settings.jobs} core(s)...")) as status:
        graded = grade(paths, course=Course(args.root), settings=settings, on_progress=lambda text: status.update(line(f"Graded {text}")))
    write_results(graded, args.out)
    console.print(grade_table(graded, load_lessons(args.root), f"Grades ({args.out})", console.width))
    return 0


def grade_table(graded: list[dict], lessons, title: str, width: int):
    """A row per learner: the score, each lesson's score, and the problems. In a terminal too narrow for a
    column per lesson (about 10 characters each), the lessons collapse into one count; the reports keep every score."""
    wide = width >= 30 + 10 * len(lessons)
    columns = ["Learner", "Score", *([lesson.id for lesson in lessons] if wide else ["Lessons complete"]), "Problems"]
    grid = table(title, columns, caption=None if wide else "per-lesson scores: gradebook.csv (or a wider terminal)", caption_justify="left")
    grid.columns[0].overflow = "fold"
    for result in graded:
        if wide:
            per_lesson = [cell(f"{item['score']:g}/{item['max_score']:g}") for item in result["lessons"]]
        else:
            done = sum(item["passed"] == item["total"] for item in result["lessons"])
            per_lesson = [cell(f"{done}/{len(result['lessons'])}")]
        problems = cell(len(result["errors"]) if result["errors"] else "")
        grid.add_row(cell(result["learner"]), cell(f"{result['score']:g}/{result['max_score']:g}"), *per_lesson, problems)
    return grid


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


def cmd_gradescope(args: argparse.Namespace) -> int:
    _instructor_only(args)
    from .grading.gradescope import gradescope_command

    return gradescope_command(
        args.out, root=args.root, lessons=args.lessons or None, time_limit=args.time_limit, spec_timeout=args.timeout, console=console
    )


def cmd_bench(args: argparse.Namespace) -> int:
    _instructor_only(args)
    from .bench import run_benchmark

    return run_benchmark(args.target, args.rest)


def cmd_chat(args: argparse.Namespace) -> int:
    from .learner.chat import main as chat_main

    return chat_main(args.rest, root=args.root)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmfs", description="LLM From Scratch: progress, self-check and tools.")
    root_help = "the course to use, before or after the command (default: the course holding the current folder, else the installed one)"
    parser.add_argument("--root", type=Path, default=None, metavar="FOLDER", help=root_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fresh_help = "run the specs again even where nothing changed since their last run (whose results are otherwise kept)"
    status = sub.add_parser("status", help="every lesson: specs passing, points, progress; then the next step")
    status.add_argument("--fresh", action="store_true", help=fresh_help)
    status.set_defaults(func=cmd_status)
    next_parser = sub.add_parser("next", help="the first red spec of the earliest unfinished lesson, with its first hint")
    next_parser.add_argument("--fresh", action="store_true", help=fresh_help)
    next_parser.set_defaults(func=cmd_next)
    hint = sub.add_parser("hint", help="the next hint of a stage's ladder (one step per call)")
    hint.add_argument("lesson", help="e.g. L03")
    hint.add_argument("stage", nargs="?", help="stage name or number (default: the stage of your first red spec)")
    hint.set_defaults(func=cmd_hint)
    check_parser = sub.add_parser("check", help="a lesson's specs in stage order, stopping at the first red one")
    check_parser.add_argument("lesson", help="e.g. L03")
    check_parser.add_argument("--fresh", action="store_true", help=fresh_help)
    check_parser.set_defaults(func=cmd_check)
    watch = sub.add_parser("watch", help="re-run a lesson (default: your current one) whenever its files or those of the lessons it builds on change")
    watch.add_argument("lesson", nargs="?", help="e.g. L03")
    watch.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    watch.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    watch.set_defaults(func=cmd_watch)
    sub.add_parser("doctor", help="Python, torch, devices and every dependency: OK or what is wrong").set_defaults(func=cmd_doctor)
    release_parser = sub.add_parser("release", help="write the learner version (no solutions, no mutants) into OUT")
    release_parser.add_argument("out", type=Path, help="a new, empty folder")
    release_parser.add_argument("--branch", default=None, help="also commit it as this (orphan) branch of the course repository")
    release_parser.add_argument("--force", action="store_true", help="with --branch: replace the branch if it exists")
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
    gradescope_parser = sub.add_parser("gradescope", help="build a Gradescope autograder (setup.sh, run_autograder) as a zip (instructors)")
    gradescope_parser.add_argument("out", type=Path, help="the zip to write, e.g. autograder.zip")
    gradescope_parser.add_argument("lessons", nargs="*", help="the lessons it grades, e.g. L03 L06 (default: all)")
    gradescope_parser.add_argument("--time-limit", type=float, default=600.0, help="the assignment's autograder timeout in seconds (default 600)")
    gradescope_parser.add_argument("--timeout", type=float, default=60.0, help="seconds per spec (default 60)")
    gradescope_parser.set_defaults(func=cmd_gradescope)
    sync_parser = sub.add_parser("sync", help="regenerate exercises/ stubs from solutions/ (instructors)")
    sync_parser.add_argument("--check", action="store_true", help="only report what is out of sync")
    sync_parser.set_defaults(func=cmd_sync)
    check = sub.add_parser("selfcheck", help="prove the specs: red on stubs, green on the reference, mutants caught")
    check.add_argument("lessons", nargs="*", help="e.g. L01 L03 (default: all)")
    check.add_argument("-j", "--jobs", type=int, default=None, help="parallel spec runs (default: CPU count)")
    check.add_argument("-v", "--verbose", action="store_true", help="list which specs catch each mutant (with --mutate: each survivor)")
    check.add_argument("--mutate", action="store_true", help="mechanical mutants of every solution region: killed, survived, equivalent")
    check.add_argument("--report-only", action="store_true", help="with --mutate: exit 0 even when a lesson kills under 95%%")
    check.add_argument("--survivors", type=Path, default=None, metavar="FILE", help="with --mutate: write the survivors here, for review")
    check.add_argument("--equivalents", type=Path, default=None, metavar="FILE", help=argparse.SUPPRESS)
    check.add_argument("--all-specs", action="store_true", help="with --mutate: also run the specs that do not execute the mutated line")
    check.set_defaults(func=cmd_selfcheck)
    grade_parser = sub.add_parser("grade", help="grade a folder of submissions (folders, .zip files, git repositories)")
    grade_parser.add_argument("submissions", nargs="+", type=Path, help="a folder of submissions, or submissions")
    grade_parser.add_argument("--out", type=Path, required=True, help="where the reports go")
    grade_parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel runs (default: CPU count)")
    grade_parser.add_argument("--timeout", type=float, default=60.0, help="seconds per spec (default 60)")
    grade_parser.add_argument("--run-timeout", type=float, default=900.0, help="seconds per lesson run (default 900)")
    grade_parser.add_argument(
        "--cumulative", action="store_true",
        help="also grade every lesson on the learner's own earlier lessons (a second run each; reported, not counted)",
    )  # fmt: skip
    grade_parser.set_defaults(func=cmd_grade)
    roster = sub.add_parser("roster", help="workshops: learners x lessons from checkouts or results files")
    roster.add_argument("dir", type=Path, help="a folder of learners' checkouts and/or results .json files")
    roster.add_argument("--watch", action="store_true", help="refresh until Ctrl-C")
    roster.add_argument("--interval", type=float, default=5.0, help="seconds between refreshes (default 5)")
    roster.add_argument("--html", type=Path, default=None, help="also write an HTML page to project")
    roster.set_defaults(func=cmd_roster)
    bench = sub.add_parser("bench", help="benchmarks of the reference against independent implementations")
    bench.add_argument("target", help="tokenizer | model | train | generate | finetune | grade | status")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    bench.set_defaults(func=cmd_bench)
    # `llmfs chat ...` goes to grader.learner.chat before parsing (see main), so its options may come first.
    chat = sub.add_parser("chat", help="talk to a checkpoint in the terminal with your L10 code (llmfs chat CHECKPOINT --help)")
    chat.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    chat.set_defaults(func=cmd_chat)
    for command in sub.choices.values():  # also after the command: llmfs check L01 --root FOLDER
        command.add_argument("--root", type=Path, default=argparse.SUPPRESS, metavar="FOLDER", help=root_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _chat_args(argv[1:]) if argv[:1] == ["chat"] else build_parser().parse_args(argv)
        args.root = course_root(args.root)
        return args.func(args)
    except (ManifestError, ValueError, OSError) as exc:
        error(exc)
        return 2
    except KeyboardInterrupt:
        return 130


def _chat_args(argv: list[str]) -> argparse.Namespace:
    """``llmfs chat ...``: the chat parses its own options (L09's sampling flags), all but ``--root``."""
    ours = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    ours.add_argument("--root", type=Path, default=None)
    known, rest = ours.parse_known_args(argv)
    return argparse.Namespace(command="chat", rest=rest, root=known.root, func=cmd_chat)


def course_root(given: Path | None) -> Path:
    """``--root`` if given, else the course holding the current folder, else the installed one; says which
    course it used (once, on stderr) when that is not the current folder's."""
    here = find_course()
    if given is not None and not is_course(given):
        raise ManifestError(f"--root {given} is not a course (no exercises/lNN/lesson.toml in it)")
    root = (given or here or COURSE_ROOT).resolve()
    if root != here:
        where = "" if here is None else f" (the current folder is in {here})"
        remark(f"using the course at {root}{where}" if given else f"no course in {Path.cwd()} or above: using the installed one at {root}")
    return root


if __name__ == "__main__":
    sys.exit(main())
