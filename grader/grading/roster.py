"""A workshop at a glance: every learner against every lesson of the course.

``llmfs roster DIR`` reads DIR, which holds learners' checkouts (folders with ``.llmfs/progress.json``; the folder
names the learner) and/or per-submission results files (``*.json`` written by ``llmfs grade``; its report folders
``gradescope/`` and ``feedback/`` are passed over). A missing or corrupt file gives its learner a row with a note,
never a crash; a learner found twice keeps the newer record. The roster shows as a rich table in the terminal
(redrawn in place when watching) and as a self-contained HTML page to project.
"""
from __future__ import annotations

import json
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from rich.console import Console, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..learner.output import console as default_console, write_atomic
from ..learner.progress import PROGRESS_FILE, read_progress
from ..lessons import Lesson, load_lessons
from .report import one_line, validate

REPORT_FOLDERS = ("gradescope", "feedback")  # written next to results files by ``llmfs grade``: not learners
NAME_WIDTH = 40  # characters of a learner's name shown
NOTE_WIDTH = 120


@dataclass(frozen=True)
class Cell:
    """One learner in one lesson."""

    passed: int
    total: int
    hints: int | None = None  # hint steps used over the lesson's stages; None where unknown (results files)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def done(self) -> bool:
        return self.total > 0 and self.passed >= self.total


@dataclass(frozen=True)
class Row:
    learner: str
    cells: dict[str, Cell]  # by lesson id; a lesson never checked has no cell
    last_activity: datetime | None = None
    note: str = ""  # what is missing or corrupt

    @property
    def passed(self) -> int:
        return sum(cell.passed for cell in self.cells.values())


@dataclass(frozen=True)
class Roster:
    lessons: list[Lesson]
    rows: list[Row]  # sorted by learner
    generated_at: datetime

    @property
    def total(self) -> int:
        """Specs in the whole course."""
        return sum(len(lesson.specs) for lesson in self.lessons)


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} should be a count, not {value!r:.40}")
    return value


def _timestamp(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{what} should be a timestamp, not {value!r:.40}")
    moment = datetime.fromisoformat(value)  # a ValueError names the bad text
    return moment if moment.tzinfo else moment.astimezone()


def _progress_row(learner: str, data: dict, lessons: list[Lesson]) -> Row:
    """A row from a learner's ``progress.json`` (as ``read_progress`` returns it); ValueError for a bad entry."""
    hints: Counter[str] = Counter()
    for key, steps in data["hints"].items():
        hints[key.split("/", 1)[0]] += _count(steps, f"hints[{key!r}]")
    cells, moments = {}, []
    for lesson in lessons:
        entry = data["lessons"].get(lesson.id)
        if entry is None:
            if hints[lesson.id]:  # hints climbed but specs never run: started all the same
                cells[lesson.id] = Cell(0, len(lesson.specs), hints[lesson.id])
            continue
        if not isinstance(entry, dict):
            raise ValueError(f"lessons[{lesson.id!r}] should be an object, not {entry!r:.40}")
        cells[lesson.id] = Cell(
            _count(entry.get("passed"), f"{lesson.id} passed"), _count(entry.get("total"), f"{lesson.id} total"), hints[lesson.id]
        )
        moments += [_timestamp(entry[key], f"{lesson.id} {key}") for key in ("checked", "changed") if key in entry]
    return Row(learner, cells, max(moments, default=None))


def _from_checkout(folder: Path, lessons: list[Lesson]) -> Row:
    try:
        return _progress_row(folder.name, read_progress(folder / PROGRESS_FILE), lessons)
    except FileNotFoundError:
        return Row(folder.name, {}, note=f"no {PROGRESS_FILE} yet: has the learner run llmfs status?")
    except (OSError, ValueError) as exc:
        return Row(folder.name, {}, note=f"corrupt {PROGRESS_FILE}: {exc}")


def _from_results(path: Path, lessons: list[Lesson]) -> Row:
    try:
        submission = validate(json.loads(path.read_text(encoding="utf-8")))
        known = {lesson.id for lesson in lessons}
        cells = {
            item["lesson"]: Cell(_count(item.get("passed"), f"{item['lesson']} passed"), _count(item.get("total"), f"{item['lesson']} total"))
            for item in submission["lessons"]
            if item["lesson"] in known
        }
        graded = _timestamp(submission["graded_at"], "graded_at") if "graded_at" in submission else None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Row(path.stem, {}, note=f"unreadable results file {path.name}: {exc}")
    errors = submission.get("errors") or [""]
    note = f"{errors[0]} (and {len(errors) - 1} more)" if len(errors) > 1 else str(errors[0])
    return Row(submission["learner"], cells, graded, note)


def _newer(old: Row | None, new: Row) -> Row:
    if old is None or (new.last_activity is not None and (old.last_activity is None or new.last_activity > old.last_activity)):
        return new
    return old


def _sort_key(name: str) -> str:
    """Alphabetical as a person reads it: "Élodie" between "dmitri" and "farah"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(ch))


def collect(folder: Path, lessons: list[Lesson] | None = None) -> Roster:
    """Every learner under ``folder`` against ``lessons`` (default: the course's), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    lessons = load_lessons() if lessons is None else lessons
    rows: dict[str, Row] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if entry.name in REPORT_FOLDERS and not (entry / ".llmfs").exists():
                continue
            row = _from_checkout(entry, lessons)
        elif entry.suffix == ".json":
            row = _from_results(entry, lessons)
        else:
            continue
        rows[row.learner] = _newer(rows.get(row.learner), row)
    ordered = sorted(rows.values(), key=lambda row: (_sort_key(row.learner), row.learner))
    return Roster(lessons, ordered, datetime.now().astimezone())


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days > 1 else ''} ago"


def activity(row: Row, now: datetime) -> str:
    """"14:50, 10 min ago" today, "28 Nov 09:12" before; "-" when unknown."""
    if row.last_activity is None:
        return "-"
    local = row.last_activity.astimezone(now.tzinfo)
    return f"{local:%H:%M}, {_ago(local, now)}" if local.date() == now.date() else f"{local:%d %b %Y %H:%M}"


def _cell_text(cell: Cell | None) -> Text:
    if cell is None:
        return Text("·", style="dim")
    style = "bold green" if cell.done else ("yellow" if cell.passed else "red")
    text = Text(f"{cell.passed}/{cell.total}", style=style)
    if cell.hints:
        text.append(f" ({cell.hints})", style="dim")
    return text


def render_table(roster: Roster, width: int | None = None) -> Table:
    """The roster for the terminal: a row per learner, a column per lesson ("9/12", hint steps in brackets).

    In a terminal of ``width`` too narrow for a column per lesson, the lessons share one column of a mark each.
    """
    narrow = width is not None and width < 40 + 10 * len(roster.lessons)
    caption = "9/12 = specs green; (2) = hint steps used"
    if narrow:
        caption = f"{' '.join(lesson.id for lesson in roster.lessons)}: ✓ = done, 0-9 = tenths green, · = not started"
    table = Table(
        title=f"Workshop progress: {len(roster.rows)} learners, {roster.generated_at:%H:%M:%S}",
        caption=caption,
        title_justify="left",
        caption_justify="left",
    )
    # Only the note wraps: when the terminal is narrow it takes more lines, and the numbers keep their width.
    table.add_column("Learner", style="bold", no_wrap=True, max_width=NAME_WIDTH // 2)
    if narrow:
        table.add_column("Lessons", no_wrap=True)
    else:
        for lesson in roster.lessons:
            table.add_column(lesson.id, justify="center", no_wrap=True)
    table.add_column("Total", justify="right", no_wrap=True)
    table.add_column("Last activity", no_wrap=True)
    if any(row.note for row in roster.rows):
        table.add_column("Note", style="red", min_width=12)
    for row in roster.rows:
        cells = [Text(one_line(row.learner, NAME_WIDTH))]
        if narrow:
            cells.append(Text.assemble(*(_cell_mark(row.cells.get(lesson.id)) for lesson in roster.lessons)))
        else:
            cells += [_cell_text(row.cells.get(lesson.id)) for lesson in roster.lessons]
        cells += [Text(f"{row.passed}/{roster.total}"), Text(activity(row, roster.generated_at))]
        if len(table.columns) > len(cells):
            cells.append(Text(one_line(row.note, NOTE_WIDTH)))
        table.add_row(*cells)
    return table


def _cell_mark(cell: Cell | None) -> Text:
    """One character for a lesson: ✓ done, a digit for the tenths of its specs green, · not started."""
    if cell is None:
        return Text("·", style="dim")
    if cell.done:
        return Text("✓", style="bold green")
    return Text(str(min(9, int(10 * cell.fraction))), style="yellow" if cell.passed else "red")


_CSS = """
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 1.5rem 2rem; font-size: clamp(15px, 1.25vw, 28px); color: #1d2330; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
.meta { color: #5b6475; margin: 0 0 1em; }
table { border-collapse: separate; border-spacing: 4px; }
th, td { padding: .35em .7em; border-radius: 6px; }
tbody tr { height: 2.9em; }
thead th { position: sticky; top: 0; background: #fff; font-size: .9em; vertical-align: bottom; }
thead th small { display: block; font-weight: normal; color: #5b6475; font-size: .7em; max-width: 9em; }
tbody th { text-align: left; background: #f4f5f8; }
tbody th .name { display: block; max-width: 14em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
tbody th small.note { display: block; max-width: 20em; font-weight: normal; color: #b3261e; font-size: .65em; }
td.cell { text-align: center; font-weight: 600; font-variant-numeric: tabular-nums; min-width: 4.5em; }
td.cell small { display: block; font-weight: normal; font-size: .65em; color: #3d4454; }
td.empty { background: #f1f2f5; color: #a0a6b3; }
td.done { background: #8fd19e; }
td.total { text-align: right; font-variant-numeric: tabular-nums; }
td.when { color: #5b6475; font-size: .8em; white-space: nowrap; }
tr.problem th { background: #fde7e4; }
.legend { color: #5b6475; font-size: .8em; margin-top: 1em; }
"""


def _cell_html(cell: Cell | None) -> str:
    if cell is None:
        return '<td class="cell empty">·</td>'
    hints = f"<small>{cell.hints} hint{'s' if cell.hints != 1 else ''}</small>" if cell.hints else ""
    if cell.done:
        return f'<td class="cell done">{cell.passed}/{cell.total}{hints}</td>'
    hue = round(10 + 80 * cell.fraction)  # red through amber as specs go green; green is kept for done
    return f'<td class="cell" style="background: hsl({hue}, 85%, 84%)">{cell.passed}/{cell.total}{hints}</td>'


def render_html(roster: Roster, refresh: float | None = None) -> str:
    """The roster as one self-contained HTML page (inline CSS, no scripts or external assets).

    refresh: seconds after which the browser reloads the page (for ``--watch``); None for a still page.
    """
    if refresh is not None and not refresh > 0:
        raise ValueError(f"refresh must be a positive number of seconds, not {refresh!r}")
    done = sum(bool(roster.lessons) and all(row.cells.get(lesson.id, Cell(0, 0)).done for lesson in roster.lessons) for row in roster.rows)
    stamp = f"{roster.generated_at:%Y-%m-%d %H:%M:%S}"
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        *([f'<meta http-equiv="refresh" content="{max(1, round(refresh))}">'] if refresh else []),
        "<title>LLM From Scratch: workshop progress</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>LLM From Scratch: workshop progress</h1>",
        f'<p class="meta">{len(roster.rows)} learners, {done} finished. Generated at '
        f'<time datetime="{roster.generated_at.isoformat(timespec="seconds")}">{stamp}</time>'
        + (f", refreshed every {refresh:g} s" if refresh else "") + ".</p>",
        "<table><thead><tr><th>Learner</th>",
        *(f"<th>{escape(lesson.id)}<small>{escape(lesson.title)}</small></th>" for lesson in roster.lessons),
        "<th>Total</th><th>Last activity</th></tr></thead><tbody>",
    ]
    body = []
    for row in roster.rows:
        note = f'<small class="note">{escape(one_line(row.note, NOTE_WIDTH))}</small>' if row.note else ""
        css_class = ' class="problem"' if row.note else ""
        body.append(
            f'<tr{css_class}><th scope="row"><span class="name">{escape(one_line(row.learner, NAME_WIDTH))}</span>{note}</th>'
            + "".join(_cell_html(row.cells.get(lesson.id)) for lesson in roster.lessons)
            + f'<td class="total">{row.passed}/{roster.total}</td><td class="when">{escape(activity(row, roster.generated_at))}</td></tr>'
        )
    tail = [
        "</tbody></table>",
        '<p class="legend">Each cell: specs green / specs in the lesson, and the hint steps used. · = not started.</p>',
        "</body></html>",
    ]
    return "\n".join(head + body + tail) + "\n"


def roster_command(
    folder: Path,
    watch: bool = False,
    interval: float = 5.0,
    html: Path | None = None,
    *,
    lessons: list[Lesson] | None = None,
    console: Console | None = None,
) -> int:
    """``llmfs roster DIR``: print the table (and write the HTML page); with ``watch``, redraw every ``interval`` s until Ctrl-C."""
    if not interval > 0:
        raise ValueError(f"interval must be a positive number of seconds, not {interval!r}")
    console = console or default_console
    if html is not None and Path(html).is_dir():
        raise ValueError(f"--html {html} is a folder: give a file name for the page, e.g. {Path(html) / 'roster.html'}")

    def snapshot() -> RenderableType:
        roster = collect(folder, lessons)
        if html is not None:
            write_atomic(Path(html), render_html(roster, refresh=interval if watch else None))
        if roster.rows:
            return render_table(roster, console.width)
        expected = f"learners' checkouts (folders with {PROGRESS_FILE}, written by llmfs status) or the results .json files of llmfs grade"
        return Text(f"No learners in {folder} yet: it should hold {expected}.", style="yellow")

    if not watch:
        console.print(snapshot())
        if html is not None:
            console.print(Text(f"wrote {html}"))
        return 0
    if html is not None:
        console.print(Text(f"Rewriting {html} every {interval:g} s."))
    console.print(Text("Watching; Ctrl-C to stop.", style="dim"))
    try:
        # Redrawn only when new data is in (no auto refresh): the table stays still between updates.
        with Live(snapshot(), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                live.update(snapshot(), refresh=True)
    except KeyboardInterrupt:
        return 0
