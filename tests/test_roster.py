"""The workshop roster: learners' progress files and results files, in the terminal and as an HTML page."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from grader.grading import roster as roster_module
from grader.lessons import Lesson, Stage, load_lessons
from grader.grading.roster import Cell, collect, render_html, render_table, roster_command

HOSTILE_NAME = '<img src=x onerror="alert(1)">[b]eve[b]'


def make_lesson(lesson_id: str, title: str, stages: dict[str, int]) -> Lesson:
    return Lesson(
        id=lesson_id, title=title, summary="", depends=(), modules=("m.py",), counts="isolated", package=lesson_id.lower(),
        stages=tuple(Stage(name, name.title(), 1.0, tuple(f"test_m.py::test_{name}_{i}" for i in range(n)), ("hint",))
                     for name, n in stages.items()),
    )  # fmt: skip


LESSONS = [make_lesson("L01", "A byte-level BPE tokenizer", {"stats": 2, "merge": 1}), make_lesson("L02", "Embeddings", {"lookup": 2})]


def checkout(root: Path, learner: str, progress: dict | str | None) -> Path:
    folder = root / learner
    (folder / "exercises").mkdir(parents=True)
    if progress is not None:
        (folder / ".llmfs").mkdir()
        text = progress if isinstance(progress, str) else json.dumps(progress)
        (folder / ".llmfs" / "progress.json").write_text(text, encoding="utf-8")
    return folder


def results_file(root: Path, learner: str, graded_at: str, passed: int, errors: list[str] | None = None) -> Path:
    data = {
        "schema": 1, "learner": learner, "graded_at": graded_at, "errors": errors or [], "score": 1.0, "max_score": 3.0,
        "lessons": [{"lesson": "L01", "passed": passed, "total": 3, "score": 1.0, "max_score": 3.0, "specs": []}],
    }  # fmt: skip
    path = root / f"{learner}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def workshop(tmp_path: Path) -> Path:
    """alice (checkout: L01 done, L02 half, hints), bob (corrupt), carol (no progress yet), dave (results file),
    erin (progress.json of the wrong shape), an older results file for alice, a hostile name, and report folders."""
    root = tmp_path / "workshop"
    root.mkdir()
    checkout(root, "alice", {
        "version": 1,
        "lessons": {"L01": {"passed": 3, "total": 3, "checked": "2025-03-10T14:00:00+0000", "changed": "2025-03-10T13:50:00+0000"},
                    "L02": {"passed": 1, "total": 2, "checked": "2025-03-10T14:55:00+0000", "changed": "2025-03-10T14:50:00+0000"}},
        "hints": {"L01/stats": 2, "L01/merge": 1, "L02/lookup": 1, "L99/x": 5},
    })  # fmt: skip
    checkout(root, "bob", '{"version": 1, "lessons": {"L01": ')
    checkout(root, "carol", None)
    checkout(root, "erin", {"lessons": [], "hints": {}})
    checkout(root, HOSTILE_NAME, {"lessons": {"L02": {"passed": 0, "total": 2}}, "hints": {}})
    results_file(root, "dave", "2025-03-10T15:00:00+00:00", 2, errors=["dave: archive member ../x.py escapes the archive root"])
    results_file(root, "alice-old", "2025-03-09T09:00:00+00:00", 1)
    data = json.loads((root / "alice-old.json").read_text())
    (root / "alice-old.json").write_text(json.dumps({**data, "learner": "alice"}))
    (root / "gradescope" / "dave").mkdir(parents=True)
    (root / "feedback").mkdir()
    (root / "notes.txt").write_text("not a learner")
    return root


def test_collect_reads_checkouts_and_results_files(workshop: Path):
    roster = collect(workshop, LESSONS)
    names = [row.learner for row in roster.rows]
    assert names == sorted(names, key=str.casefold) and "gradescope" not in names and "feedback" not in names
    rows = {row.learner: row for row in roster.rows}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", HOSTILE_NAME}
    alice = rows["alice"]
    assert alice.cells == {"L01": Cell(3, 3, 3), "L02": Cell(1, 2, 1)}, "hints summed over each lesson's stages"
    assert alice.last_activity == datetime(2025, 3, 10, 14, 55, tzinfo=timezone.utc), "the checkout is newer than alice's results file"
    assert alice.note == "" and alice.passed == 4 and roster.total == 5
    assert rows["dave"].cells == {"L01": Cell(2, 3, None)} and "escapes the archive root" in rows["dave"].note
    assert rows["bob"].cells == {} and rows["bob"].note.startswith("corrupt .llmfs/progress.json")
    assert "no .llmfs/progress.json yet" in rows["carol"].note
    assert rows["erin"].note.startswith("corrupt") and "expected {\"lessons\"" in rows["erin"].note


def test_collect_has_a_column_for_every_lesson_of_the_course(workshop: Path):
    assert [lesson.id for lesson in collect(workshop).lessons] == [lesson.id for lesson in load_lessons()]


def test_collect_needs_a_folder(tmp_path: Path):
    with pytest.raises(ValueError, match="missing"):
        collect(tmp_path / "missing", LESSONS)


def test_render_table_shows_every_learner_literally(workshop: Path):
    checkout(workshop, "[b]zoe[b]", {"lessons": {}, "hints": {}})
    console = Console(record=True, width=200, color_system=None)
    console.print(render_table(collect(workshop, LESSONS)))
    text = console.export_text()
    assert "[b]zoe[b]" in text, "names are text, never rich markup"
    assert '<img src=x onerror=…' in text, "long names are cut"
    for expected in ("alice", "3/3 (3)", "1/2 (1)", "4/5", "corrupt .llmfs/progress.json", "L01", "L02"):
        assert expected in text


def test_render_html_is_self_contained_and_escaped(workshop: Path):
    page = render_html(collect(workshop, LESSONS))
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "http-equiv" not in page and "<script" not in page and "<img" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert not any(marker in page for marker in ("http://", "https://", "<link", "url(")), "no external assets"
    watching = render_html(collect(workshop, LESSONS), refresh=5)
    assert '<meta http-equiv="refresh" content="5">' in watching
    with pytest.raises(ValueError, match="0"):
        render_html(collect(workshop, LESSONS), refresh=0)


def test_roster_command_prints_and_writes_the_page(workshop: Path, tmp_path: Path):
    console = Console(record=True, width=200, color_system=None)
    page = tmp_path / "site" / "roster.html"
    assert roster_command(workshop, html=page, lessons=LESSONS, console=console) == 0
    assert "alice" in console.export_text() and "alice" in page.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="-1"):
        roster_command(workshop, watch=True, interval=-1, lessons=LESSONS, console=console)


def test_watch_redraws_until_ctrl_c(workshop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:  # a learner goes green between two refreshes
            checkout(workshop, "frank", {"lessons": {"L02": {"passed": 2, "total": 2}}, "hints": {}})
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(roster_module.time, "sleep", nap)
    page = tmp_path / "roster.html"
    console = Console(record=True, width=200, color_system=None)
    assert roster_command(workshop, watch=True, interval=2.5, html=page, lessons=LESSONS, console=console) == 0
    assert naps == [2.5, 2.5]
    text = page.read_text(encoding="utf-8")
    assert "frank" in text and '<meta http-equiv="refresh" content="2">' in text


class _Cells(HTMLParser):
    """The text of every body row's cells, and every element seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data + " ")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("no headless browser: apt-get install chromium to run the browser check")
    return found


def _browse(chromium: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="llmfs-chromium-") as profile:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}"]  # fmt: skip
        return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120, check=True)


def test_html_page_renders_in_a_real_browser(workshop: Path, tmp_path: Path):
    chromium = _chromium()
    now = datetime.now(timezone.utc)
    alice = workshop / "alice" / ".llmfs" / "progress.json"
    progress = json.loads(alice.read_text())
    progress["lessons"]["L02"]["checked"] = (now - timedelta(minutes=3)).isoformat()
    alice.write_text(json.dumps(progress))
    page = tmp_path / "roster.html"
    page.write_text(render_html(collect(workshop, LESSONS), refresh=30), encoding="utf-8")

    dom = _browse(chromium, "--dump-dom", page.as_uri()).stdout
    parsed = _Cells()
    parsed.feed(dom)
    assert "img" not in parsed.tags and "script" not in parsed.tags, "a learner's name must not become markup"
    rows = {cells[0].split(" ")[0]: cells for cells in parsed.rows}
    assert len(parsed.rows) == 6 and all(len(cells) == 1 + len(LESSONS) + 2 for cells in parsed.rows)
    assert rows["alice"][1:4] == ["3/3 3 hints", "1/2 1 hint", "4/5"] and rows["alice"][4].endswith("3 min ago")
    assert rows["carol"][0].startswith("carol no .llmfs/progress.json yet") and rows["carol"][1:3] == ["·", "·"]
    assert rows["dave"][1] == "2/3"
    assert any(cells[0].startswith('<img src=x onerror="alert(1)">[b]eve[b]') for cells in parsed.rows)

    shot = tmp_path / "roster.png"
    _browse(chromium, f"--screenshot={shot}", "--window-size=1400,900", "--hide-scrollbars", page.as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, "the screenshot should show a rendered page"
