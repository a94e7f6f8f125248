"""What the learner's commands print (``status``, ``next``, ``check``, ``watch``, ``hint``), as renderables.

Hints, stage titles and spec messages are the manifests' and the specs' own words: they go through
:func:`grader.learner.output.line`, so they print exactly as written.
"""
from __future__ import annotations

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.text import Text

from ..lessons import Lesson, Stage
from ..sandbox.run import SpecResult
from .output import cell, line, table
from .progress import LessonProgress, stage_report


def status_table(results: list[LessonProgress]) -> RenderableType:
    """Every lesson: specs passing, points, a bar, and what it builds on."""
    grid = table("LLM From Scratch: your progress", ["Lesson", "Title", "Specs", "Points", "Progress", "Builds on"])
    for item in results:
        colour = "green" if item.done else ("yellow" if item.passed else "red")
        grid.add_row(
            cell(item.lesson.id),
            cell(item.lesson.title),
            cell(f"{item.passed}/{item.total}", colour),
            cell(f"{item.points:g}/{item.lesson.points:g}"),
            ProgressBar(total=max(item.total, 1), completed=item.passed, width=20),
            cell(", ".join(item.lesson.depends) or "-"),
        )
    return grid


def kept_note(results: list[LessonProgress], command: str) -> RenderableType | None:
    """Which results are kept from an earlier run (nothing they depend on changed), and how to run them anyway."""
    kept = [item.lesson.id for item in results if item.kept]
    if not kept:
        return None
    if len(results) == 1:
        return line((f"Not run again: unchanged since the last run (llmfs {command} --fresh runs it).", "dim"))
    which = "every lesson" if len(kept) == len(results) else ", ".join(kept)
    them = "it" if len(kept) == 1 else "them"
    return line((f"Not run again, unchanged since the last run: {which} (llmfs {command} --fresh runs {them}).", "dim"))


def next_spec(step: tuple[LessonProgress, SpecResult, Stage] | None) -> RenderableType:
    """The first red spec of the earliest unfinished lesson, its message and first hint, and what to run."""
    if step is None:
        return line(("Every spec is green. Well done!", "green"))
    item, red, stage = step
    lesson = item.lesson
    number = lesson.stages.index(stage) + 1
    lines = [
        Text(),
        line(("Next:", "bold"), f" {lesson.id} stage {number} ({stage.title}): ", (red.spec, "cyan")),
        line("  ", red.message or red.outcome),
    ]
    if stage.hints:
        lines.append(line("  ", ("Hint:", "dim"), " ", stage.hints[0]))
    lines.append(line(f"  Run it: pytest exercises/{lesson.package} -x   More help: llmfs hint {lesson.id}"))
    return Group(*lines)


def check(item: LessonProgress) -> RenderableType:
    """Stages in order: green ones ticked, then the first red spec with its message and first hint; then stop."""
    lesson = item.lesson
    lines = [line((f"{lesson.id} {lesson.title}", "bold"), f"  {item.passed}/{item.total} specs")]
    for number, (stage, results) in enumerate(stage_report(item), start=1):
        red = next((r for r in results if not r.passed), None)
        if red is None:
            lines.append(line("  ", ("✓", "green"), f" {number}. {stage.title}"))
            continue
        done = sum(r.passed for r in results)
        lines += [
            line("  ", ("✗", "red"), f" {number}. {stage.title} ({done}/{len(results)})"),
            line(f"      {red.spec}"),
            line("      ", (red.message or red.outcome, "yellow")),
        ]
        if stage.hints:
            lines.append(line("      ", ("Hint:", "dim"), " ", stage.hints[0]))
        lines.append(line(f"      Next: fix it, then `llmfs check {lesson.id}` (more help: llmfs hint {lesson.id} {stage.name})"))
        return Group(*lines)
    lines.append(line((f"{lesson.id} is complete.", "green")))
    return Group(*lines)


def hint(lesson: Lesson, stage: Stage, step: int, text: str) -> RenderableType:
    """One step of a stage's ladder; the last step says it is the last (and says so again each time it repeats)."""
    last = step == len(stage.hints)
    lines = [
        line((f"{lesson.id} · {stage.title}", "bold"), f" — hint {step} of {len(stage.hints)}" + (", the last one" if last else "")),
        line("  ", text),
    ]
    if last:
        lines.append(line((f"  (the last hint of this stage; exercises/{lesson.package}/README.md explains it in full)", "dim")))
    else:
        lines.append(line((f"  (run `llmfs hint {lesson.id} {stage.name}` again for the next one)", "dim")))
    return Group(*lines)


def all_green(lesson: Lesson) -> RenderableType:
    return line((f"{lesson.id} is all green: no hint needed.", "green"))
