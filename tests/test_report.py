"""Reports of grading results: per-learner JSON, Gradescope, the nbgrader-style gradebook, JUnit XML, feedback notes."""
from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from grader.grading.report import (
    NBGRADER_COLUMNS,
    MESSAGE_LIMIT,
    clean_text,
    feedback_markdown,
    file_stems,
    gradescope_results,
    load_results,
    md_code_block,
    md_code_span,
    write_reports,
)

HOSTILE = '</testcase>"quoted" <script>alert(1)</script>\x00\x1b[31mred\x1b[0m\r\n```\n~~~\n=1+1\n' + "A" * 100_000


def spec(name: str, status: str, stage: str = "merge", points: float = 1.0, message: str = "") -> dict:
    return {
        "spec": f"test_bpe.py::{name}", "stage": stage, "stage_title": stage.title() + " stage", "status": status,
        "message": message or ("" if status == "passed" else f"{name} went {status}: expected 3, got 4"),
        "duration": 0.01, "points": points if status == "passed" else 0.0, "max_points": points,
        "hint": f"first hint of {stage}",
    }  # fmt: skip


def lesson(lesson_id: str, specs: list[dict], errors: list[str] | None = None) -> dict:
    score = sum(s["points"] for s in specs)
    passed = sum(s["status"] == "passed" for s in specs)
    counts = {"score": score, "passed": passed, "total": len(specs)}
    return {
        "lesson": lesson_id, "title": f"Lesson {lesson_id}", "counts": "isolated",
        "score": score, "max_score": sum(s["max_points"] for s in specs), "passed": passed, "total": len(specs),
        "isolated": counts, "cumulative": counts, "errors": errors or [], "specs": specs,
    }  # fmt: skip


def submission(learner: str, lessons: list[dict], errors: list[str] | None = None) -> dict:
    return {
        "schema": 1, "learner": learner, "source": f"/submissions/{learner}.zip", "graded_at": "2026-11-29T15:00:00+00:00",
        "course_version": "0.1.0", "errors": errors or [], "score": sum(l["score"] for l in lessons),
        "max_score": sum(l["max_score"] for l in lessons), "duration": 31.6, "lessons": lessons,
    }  # fmt: skip


@pytest.fixture
def submissions() -> list[dict]:
    alice = submission("alice", [
        lesson("L01", [spec("test_pairs", "passed", "stats", 0.5), spec("test_merge", "failed"), spec("test_train", "error", "train", 2.0)]),
        lesson("L03", [spec("test_softmax", "skipped", "softmax"), spec("test_head", "missing", "head")], errors=["attention.py: SyntaxError (line 3)"]),
    ], errors=["alice: archive member ../evil.py escapes the archive root: skipped"])  # fmt: skip
    bob = submission("bob", [lesson("L01", [spec("test_pairs", "passed", "stats", 0.5), spec("test_merge", "passed")])])
    return [alice, bob]


GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}  # fmt: skip
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                   "tags", "visibility", "extra_data"}  # fmt: skip
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_gradescope(results: dict) -> None:
    """The structure of Gradescope's autograder specification (results.json), field by field."""
    assert set(results) <= GRADESCOPE_TOP, f"fields outside the spec: {set(results) - GRADESCOPE_TOP}"
    assert isinstance(results["score"], float) and isinstance(results["execution_time"], int)
    assert isinstance(results["output"], str) and isinstance(results["extra_data"], dict)
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    assert {results[k] for k in ("output_format", "test_output_format", "test_name_format")} <= FORMATS
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= GRADESCOPE_TEST, f"test fields outside the spec: {set(test) - GRADESCOPE_TEST}"
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0.0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert isinstance(test.get("output", ""), str)
        assert isinstance(test["tags"], list) and all(isinstance(tag, str) for tag in test["tags"])
        assert test["visibility"] in VISIBILITY
        assert {test.get("output_format", "text"), test.get("name_format", "text")} <= FORMATS
    assert math.isclose(results["score"], math.fsum(t["score"] for t in results["tests"]))
    assert len({t["number"] for t in results["tests"]}) == len(results["tests"]), "test numbers must be distinct"


def test_write_reports_writes_every_format_and_reads_back(tmp_path: Path, submissions: list[dict]):
    written = write_reports(submissions, tmp_path)
    relative = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert relative == sorted([
        "alice.json", "bob.json", "gradescope/alice/results.json", "gradescope/bob/results.json",
        "feedback/alice.md", "feedback/bob.md", "gradebook.csv", "junit.xml",
    ])  # fmt: skip
    assert load_results([tmp_path]) == submissions, "the per-learner JSON files are the submissions, read back as they were"


def test_gradescope_results_follow_the_autograder_spec(submissions: list[dict]):
    alice = gradescope_results(submissions[0])
    check_gradescope(alice)
    assert alice["score"] == 0.5 and alice["execution_time"] == 32
    statuses = {t["name"].rsplit("::", 1)[1]: t["status"] for t in alice["tests"]}
    assert statuses == {"test_pairs": "passed", "test_merge": "failed", "test_train": "failed",
                        "test_softmax": "failed", "test_head": "failed"}  # fmt: skip
    assert [t["number"] for t in alice["tests"]] == ["1.1", "1.2", "1.3", "3.1", "3.2"]
    merge = alice["tests"][1]
    assert "expected 3, got 4" in merge["output"] and "Hint: first hint of merge" in merge["output"]
    assert merge["tags"] == ["L01", "merge"] and merge["max_score"] == 1.0
    assert "SyntaxError" in alice["output"] and "escapes the archive root" in alice["output"]
    check_gradescope(gradescope_results(submissions[1]))


def test_gradebook_has_nbgrader_columns_and_a_column_per_lesson(tmp_path: Path, submissions: list[dict]):
    write_reports(submissions, tmp_path)
    with (tmp_path / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == [*NBGRADER_COLUMNS, "L01", "L03"]
    alice, bob = rows
    assert alice["student_id"] == "alice" and alice["assignment"] == "llm-from-scratch"
    assert (alice["raw_score"], alice["score"], alice["max_score"], alice["late_submission_penalty"]) == ("0.5", "0.5", "5.5", "0.0")
    assert (alice["L01"], alice["L03"]) == ("0.5", "0.0")
    assert bob["L03"] == "", "a lesson the submission lacks stays empty"
    assert bob["timestamp"] == "2026-11-29T15:00:00+00:00"


def test_junit_counts_failures_errors_and_skips(tmp_path: Path, submissions: list[dict]):
    write_reports(submissions, tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("7", "1", "2", "1")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"alice", "alice.L01", "alice.L03", "bob.L01"}
    assert len(root.findall(".//failure")) == 1 and len(root.findall(".//error")) == 2
    assert suites["alice.L03"].get("errors") == "1" and suites["alice.L03"].get("skipped") == "1"
    assert "SyntaxError" in suites["alice.L03"].findtext("system-err")
    assert "escapes the archive root" in suites["alice"].findtext("system-err")
    merge = suites["alice.L01"].find("testcase[@name='test_bpe.py::test_merge']")
    assert merge.get("classname") == "alice.L01.merge"
    assert "expected 3, got 4" in merge.find("failure").get("message")


def test_feedback_lists_red_specs_by_lesson_and_stage(submissions: list[dict]):
    note = feedback_markdown(submissions[0])
    assert "| L01 | Lesson L01 | 1/3 | 0.5 / 3.5 |" in note
    assert "test_pairs" not in note, "green specs are not listed"
    order = [note.index(text) for text in ("## L01", "### Merge stage", "`test_bpe.py::test_merge` (failed)", "expected 3, got 4",
                                           "Hint: first hint of merge", "### Train stage", "## L03", "SyntaxError")]  # fmt: skip
    assert order == sorted(order), "lesson, then stage, then spec, message and hint"
    assert "Outstanding" in feedback_markdown(submissions[1])


def test_a_hostile_message_breaks_no_format(tmp_path: Path):
    hostile = submission('=HYPERLINK("x")\n<b>mallory</b>', [lesson("L01", [
        spec("test_merge", "failed", message=HOSTILE), spec("test_pairs", "error", message=HOSTILE),
    ])])  # fmt: skip
    write_reports([hostile], tmp_path)
    stem = file_stems([hostile["learner"]])[0]
    assert load_results([tmp_path]) == [hostile], "the record itself keeps every byte (JSON escapes them)"

    results = json.loads((tmp_path / "gradescope" / stem / "results.json").read_text(encoding="utf-8"))
    check_gradescope(results)
    output = results["tests"][0]["output"]
    assert "\x00" not in output and "\x1b" not in output and len(output) < MESSAGE_LIMIT + 200
    assert "</testcase>\"quoted\" <script>" in output, "the text itself survives, as plain text"

    with (tmp_path / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])
    assert rows[1][3] == "'=HYPERLINK(\"x\") <b>mallory</b>", "one line, and no formula for a spreadsheet to run"

    root = ET.parse(tmp_path / "junit.xml").getroot()  # parses: everything escaped, no character XML forbids
    assert len(root.findall(".//testcase")) == 2 and root.get("failures") == "1" and root.get("errors") == "1"
    failure = root.find(".//failure")
    assert failure.text.startswith("</testcase>\"quoted\" <script>") and "\x00" not in failure.text
    assert failure.get("message") == '</testcase>"quoted" <script>alert(1)</script>red', "the first line, as an attribute"

    note = (tmp_path / "feedback" / f"{stem}.md").read_text(encoding="utf-8")
    rendered = MarkdownIt("commonmark", {"html": True}).render(note)  # raw HTML allowed: the worst case
    assert "<script>" not in rendered and "<b>" not in rendered, "messages and names must stay literal text"
    assert "&lt;script&gt;" in rendered and len(note) < 10_000


def test_clean_text_keeps_newlines_and_cuts_long_text():
    assert clean_text("a\tb\r\nc\x00\x07\u202ed\x1b[1mbold") == "a\tb\ncdbold"
    cut = clean_text("x" * 50, limit=10)
    assert cut.startswith("x" * 10) and "40 more characters cut" in cut


def test_markdown_code_keeps_backticks_literal():
    rendered = MarkdownIt("commonmark").render(md_code_span("a ``b`` c") + "\n\n" + md_code_block("x\n````\ny"))
    assert "<code>a ``b`` c</code>" in rendered and "x\n````\ny\n</code></pre>" in rendered


def test_file_stems_are_safe_and_distinct():
    assert file_stems(["alice", "Alice", "alice", "Zoë Smith", "../../etc/passwd", "", "con", "李"]) == [
        "alice", "Alice-2", "alice-3", "Zoe_Smith", "etc_passwd", "learner", "con-2", "learner-2",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: s.update(learner=""), "learner name"),
        (lambda s: s.update(schema=2), "schema 2"),
        (lambda s: s.update(score=float("nan")), "nan"),
        (lambda s: s["lessons"][0].update(lesson="intro"), "'intro'"),
        (lambda s: s["lessons"][0].update(passed="2"), "'2'"),
        (lambda s: s["lessons"][0]["specs"][0].update(status="exploded"), "'exploded'"),
    ],
)
def test_bad_input_is_a_value_error_and_writes_nothing(tmp_path: Path, submissions: list[dict], change, error: str):
    change(submissions[1])
    with pytest.raises(ValueError, match=error):
        write_reports(submissions, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_load_results_skips_and_reports_unreadable_files(tmp_path: Path, submissions: list[dict]):
    good = tmp_path / "alice.json"
    good.write_text(json.dumps(submissions[0]), encoding="utf-8")
    (tmp_path / "torn.json").write_text('{"schema": 1, "learn', encoding="utf-8")
    (tmp_path / "other.json").write_text('{"name": "not results"}', encoding="utf-8")
    problems: list[str] = []
    loaded = load_results([tmp_path / "torn.json", good, tmp_path / "other.json", tmp_path / "gone.json"], problems.append)
    assert loaded == [submissions[0]]
    assert [line.split(":")[0] for line in problems] == [f"skipped {tmp_path / name}" for name in ("torn.json", "other.json", "gone.json")]
