"""Grading results in every format an instructor needs.

``write_reports(submissions, out)`` takes the per-submission result dicts of ``llmfs grade`` (``"schema": 1``) and
writes into ``out``:

- ``<learner>.json``: each submission as it is, pretty-printed (``load_results`` reads these back);
- ``gradescope/<learner>/results.json``: Gradescope's autograder format, one test per spec;
- ``gradebook.csv``: one row per learner, nbgrader's export columns then one score column per lesson;
- ``junit.xml``: a ``testsuite`` per learner and lesson, a ``testcase`` per spec;
- ``feedback/<learner>.md``: a short note per learner, the score of each lesson then each red spec with its hint.

The gradebook treats the whole course as one nbgrader assignment: ``assignment`` is ``llm-from-scratch``;
``duedate``, ``last_name``, ``first_name`` and ``email`` stay empty (the grader knows none of them); ``timestamp``
is when the submission was graded; ``student_id`` is the learner; ``raw_score`` and ``score`` are the course score,
with no late penalty (``late_submission_penalty`` is 0.0); ``max_score`` is the course's points.

Messages come from learners' code and are hostile until cleaned: ANSI colours, control characters and
bidirectional overrides go, long text is cut, and every format escapes what it must (CSV quoting and no
formula cells, XML escaping, Markdown code fences longer than any run of backticks inside).
"""
from __future__ import annotations

import csv
import json
import math
import re
import sys
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path

ASSIGNMENT = "llm-from-scratch"
NBGRADER_COLUMNS = (
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
    "email", "raw_score", "late_submission_penalty", "score", "max_score",
)  # fmt: skip
STATUSES = ("passed", "failed", "error", "skipped", "missing")
MESSAGE_LIMIT = 4000  # characters of a message kept in Gradescope and JUnit
FEEDBACK_LIMIT = 1500  # ... and in a learner's feedback note
NAME_LIMIT = 200

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Not allowed in XML 1.0, refused by PostgreSQL text, or able to reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def _sanitize(text: object) -> str:
    text = "" if text is None else str(text)
    return _UNSAFE.sub("", _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def clean_text(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """Text safe for every format: no ANSI codes or control characters (tabs and newlines stay), at most ``limit`` characters."""
    text = _sanitize(text)
    if len(text) > limit:
        text = f"{text[:limit]}\n... [{len(text) - limit} more characters cut]"
    return text


def one_line(text: object, limit: int = NAME_LIMIT) -> str:
    """Cleaned text on one line (runs of whitespace become one space), cut to ``limit`` characters with an ellipsis."""
    line = " ".join(_sanitize(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def file_stems(learners: Iterable[str]) -> list[str]:
    """A safe, distinct file name for each learner, in order: "Zoë Smith" -> "Zoe_Smith", a second "alice" -> "alice-2"."""
    taken: set[str] = set()
    stems = []
    for learner in learners:
        ascii_name = unicodedata.normalize("NFKD", learner).encode("ascii", "ignore").decode()
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")[:64] or "learner"
        stem, number = base, 1
        # Compared case-insensitively: "Alice" and "alice" are one file on macOS and Windows.
        while stem.lower() in taken or stem.lower().split(".")[0] in _RESERVED:
            number += 1
            stem = f"{base}-{number}"
        taken.add(stem.lower())
        stems.append(stem)
    return stems


def _check_number(value: object, what: str, kind: type | tuple[type, ...] = (int, float)) -> None:
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite {'count' if kind is int else 'number'}, not {value!r:.80}")


def _check_list(value: object, what: str) -> None:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, not {value!r:.80}")


def validate(submission: object) -> dict:
    """Return ``submission`` if it has the shape of a schema-1 result, else raise ValueError naming what is wrong."""
    if not isinstance(submission, dict):
        raise ValueError(f"a submission must be a dict, not {type(submission).__name__}")
    if submission.get("schema") != 1:
        raise ValueError(f"unknown results schema {submission.get('schema')!r} (expected 1)")
    learner = submission.get("learner")
    if not isinstance(learner, str) or not learner:
        raise ValueError(f"a submission needs a learner name, not {learner!r}")
    _check_list(submission.get("lessons"), f"{learner}: lessons")
    _check_list(submission.get("errors", []), f"{learner}: errors")
    for field in ("score", "max_score", "duration"):
        _check_number(submission.get(field, 0.0), f"{learner}: {field}")
    for lesson in submission["lessons"]:
        if not isinstance(lesson, dict) or not re.fullmatch(r"L\d{2,}", str(lesson.get("lesson"))):
            raise ValueError(f"{learner}: a lesson result needs an id like L03, not {lesson!r:.80}")
        where = f"{learner} {lesson['lesson']}"
        _check_list(lesson.get("specs"), f"{where}: specs")
        _check_list(lesson.get("errors", []), f"{where}: errors")
        for field in ("score", "max_score"):
            _check_number(lesson.get(field, 0.0), f"{where}: {field}")
        for field in ("passed", "total"):
            _check_number(lesson.get(field, 0), f"{where}: {field}", int)
        for spec in lesson["specs"]:
            if not isinstance(spec, dict) or not isinstance(spec.get("spec"), str):
                raise ValueError(f"{where}: a spec result needs a 'spec' name, not {spec!r:.80}")
            if spec.get("status") not in STATUSES:
                raise ValueError(f"{learner} {spec['spec']}: status must be one of {', '.join(STATUSES)}, not {spec.get('status')!r}")
            for field in ("points", "max_points", "duration"):
                _check_number(spec.get(field, 0.0), f"{learner} {spec['spec']}: {field}")
    return submission


def load_results(paths: Iterable[Path], report: Callable[[str], None] | None = None) -> list[dict]:
    """Submissions read back from result files (a folder stands for its ``*.json``), in order.

    A file that cannot be read or is not a results file is skipped and reported (one line, to stderr by default).
    """
    report = report or (lambda line: print(line, file=sys.stderr))
    submissions = []
    for path in paths:
        path = Path(path)
        for file in sorted(path.glob("*.json")) if path.is_dir() else [path]:
            try:
                submissions.append(validate(json.loads(file.read_text(encoding="utf-8"))))
            except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
                report(f"skipped {file}: {exc}")
    return submissions


def _number(value: float) -> str:
    """A score as nbgrader writes it (str of a float), rounded so sums like 0.1 + 0.2 read well."""
    return str(round(float(value), 4))


def _spec_output(spec: dict, limit: int = MESSAGE_LIMIT) -> str:
    lines = [clean_text(spec.get("message") or spec["status"], limit)]
    if spec.get("hint"):
        lines.append(f"Hint: {clean_text(spec['hint'], limit)}")
    return "\n\n".join(lines)


def _summary(submission: dict) -> str:
    """The plain-text overview of a submission: score, each lesson, and any grader messages."""
    lines = [f"Score: {_number(submission.get('score', 0.0))} / {_number(submission.get('max_score', 0.0))}"]
    for lesson in submission["lessons"]:
        passed, total = lesson.get("passed", 0), lesson.get("total", len(lesson["specs"]))
        lines.append(
            f"{lesson['lesson']} {one_line(lesson.get('title', ''))}: {passed}/{total} specs, "
            f"{_number(lesson.get('score', 0.0))}/{_number(lesson.get('max_score', 0.0))} points"
        )
        lines += [f"  {clean_text(error)}" for error in lesson.get("errors", [])]
    lines += [clean_text(error) for error in submission.get("errors", [])]
    return "\n".join(lines)


def gradescope_results(submission: dict) -> dict:
    """Gradescope's ``results.json`` for one submission: one test per spec, numbered "<lesson>.<spec>".

    Only fields of Gradescope's autograder specification appear; every text is plain ("text" format), so a
    message can carry no HTML or Markdown; the top-level score is the sum of the tests' scores.
    """
    tests = []
    for lesson in submission["lessons"]:
        lesson_id, number = lesson["lesson"], int(lesson["lesson"][1:])
        for position, spec in enumerate(lesson["specs"], 1):
            stage = one_line(spec.get("stage_title") or spec.get("stage") or "")
            test = {
                "score": float(spec.get("points", 0.0)),
                "max_score": float(spec.get("max_points", 0.0)),
                "status": "passed" if spec["status"] == "passed" else "failed",
                "name": f"{lesson_id} {stage}: {one_line(spec['spec'])}" if stage else f"{lesson_id}: {one_line(spec['spec'])}",
                "name_format": "text",
                "number": f"{number}.{position}",
                "tags": [tag for tag in (lesson_id, one_line(spec.get("stage", ""))) if tag],
                "visibility": "visible",
            }
            if spec["status"] != "passed":
                test["output"] = _spec_output(spec)
                test["output_format"] = "text"
            tests.append(test)
    return {
        "score": math.fsum(test["score"] for test in tests),
        "execution_time": round(float(submission.get("duration", 0.0))),
        "output": _summary(submission),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "learner": one_line(submission["learner"]),
            "graded_at": one_line(submission.get("graded_at", "")),
            "course_version": one_line(submission.get("course_version", "")),
        },
        "tests": tests,
    }


def _no_formula(text: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula; a leading quote keeps it text."""
    return f"'{text}" if text.startswith(("=", "+", "-", "@")) else text


def write_gradebook(submissions: list[dict], path: Path) -> Path:
    """``gradebook.csv``: nbgrader's export columns (see the module docstring), then one score column per lesson."""
    lessons = sorted({lesson["lesson"] for sub in submissions for lesson in sub["lessons"]}, key=lambda id_: int(id_[1:]))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*NBGRADER_COLUMNS, *lessons])
        writer.writeheader()
        for sub in submissions:
            score = _number(sub.get("score", 0.0))
            row = {
                "assignment": ASSIGNMENT, "duedate": "", "timestamp": _no_formula(one_line(sub.get("graded_at", ""))),
                "student_id": _no_formula(one_line(sub["learner"])), "last_name": "", "first_name": "", "email": "",
                "raw_score": score, "late_submission_penalty": "0.0", "score": score,
                "max_score": _number(sub.get("max_score", 0.0)),
            }  # fmt: skip
            row.update({lesson["lesson"]: _number(lesson.get("score", 0.0)) for lesson in sub["lessons"]})
            writer.writerow(row)
    return path


def junit_xml(submissions: list[dict]) -> bytes:
    """JUnit XML: ``testsuites`` > a ``testsuite`` per learner and lesson > a ``testcase`` per spec.

    failed -> ``failure``, error and missing (never ran) -> ``error``, skipped -> ``skipped``. A submission's own
    errors (say, an archive member refused) go in an extra, empty suite named after the learner.
    """
    root = ET.Element("testsuites", name=ASSIGNMENT)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for sub in submissions:
        learner = one_line(sub["learner"])
        if sub.get("errors"):
            suite = ET.SubElement(root, "testsuite", name=learner, tests="0", failures="0", errors="0", skipped="0", time="0")
            ET.SubElement(suite, "system-err").text = "\n".join(clean_text(e) for e in sub["errors"])
        for lesson in sub["lessons"]:
            lesson_id = lesson["lesson"]
            suite = ET.SubElement(root, "testsuite", name=f"{learner}.{lesson_id}", timestamp=one_line(sub.get("graded_at", "")))
            properties = ET.SubElement(suite, "properties")
            for name, value in (("learner", learner), ("lesson", lesson_id), ("title", one_line(lesson.get("title", ""))),
                                ("score", _number(lesson.get("score", 0.0))), ("max_score", _number(lesson.get("max_score", 0.0)))):  # fmt: skip
                ET.SubElement(properties, "property", name=name, value=value)
            counts = dict.fromkeys(totals, 0)
            duration = 0.0
            for spec in lesson["specs"]:
                stage = one_line(spec.get("stage", "")) or "specs"
                seconds = float(spec.get("duration", 0.0))
                case = ET.SubElement(suite, "testcase", classname=f"{learner}.{lesson_id}.{stage}",
                                     name=one_line(spec["spec"]), time=f"{seconds:.3f}")  # fmt: skip
                counts["tests"] += 1
                duration += seconds
                status = spec["status"]
                if status == "passed":
                    continue
                tag, counted = {"failed": ("failure", "failures"), "skipped": ("skipped", "skipped")}.get(status, ("error", "errors"))
                counts[counted] += 1
                first_line = clean_text(spec.get("message") or status).split("\n", 1)[0]
                element = ET.SubElement(case, tag, message=one_line(first_line), type=status)
                element.text = _spec_output(spec)
            if lesson.get("errors"):
                ET.SubElement(suite, "system-err").text = "\n".join(clean_text(e) for e in lesson["errors"])
            suite.attrib.update({key: str(value) for key, value in counts.items()}, time=f"{duration:.3f}")
            for key in totals:
                totals[key] += counts[key]
    root.attrib.update({key: str(value) for key, value in totals.items()})
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def md_text(text: object, limit: int = NAME_LIMIT) -> str:
    """One line of Markdown that shows ``text`` literally: every ASCII punctuation character backslash-escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", one_line(text, limit))


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def md_code_span(text: object, limit: int = NAME_LIMIT) -> str:
    """Inline code that shows ``text`` literally: its backtick fence is longer than any run of backticks inside."""
    body = one_line(text, limit)
    fence = "`" * (_longest_backticks(body) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def md_code_block(text: object, limit: int = FEEDBACK_LIMIT) -> str:
    """A fenced block that shows ``text`` literally: its fence is longer than any run of backticks inside."""
    body = clean_text(text, limit)
    fence = "`" * max(3, _longest_backticks(body) + 1)
    return f"{fence}text\n{body}\n{fence}"


def _md_score(lesson: dict) -> str:
    return f"{_number(lesson.get('score', 0.0))} / {_number(lesson.get('max_score', 0.0))}"


def feedback_markdown(submission: dict) -> str:
    """A learner's note: the score of each lesson, then each red spec with its message and first hint, by lesson and stage."""
    lessons = submission["lessons"]
    passed = sum(lesson.get("passed", 0) for lesson in lessons)
    total = sum(lesson.get("total", len(lesson["specs"])) for lesson in lessons)
    lines = [f"# Feedback for {md_text(submission['learner'])}", ""]
    lines.append(f"**Score: {_number(submission.get('score', 0.0))} / {_number(submission.get('max_score', 0.0))}**, {passed} of {total} specs green.")
    if total and passed == total:
        lines.append("Every spec is green. Outstanding work!")
    elif passed:
        lines.append("Good progress. Each red spec below says what it expected; take them one at a time, in order.")
    else:
        lines.append("Everything is still ahead of you: start with the first red spec below; its message says what it expected.")
    lines += ["", "| Lesson | Title | Specs | Points |", "| --- | --- | --- | --- |"]
    for lesson in lessons:
        lines.append(f"| {lesson['lesson']} | {md_text(lesson.get('title', ''))} | "
                     f"{lesson.get('passed', 0)}/{lesson.get('total', len(lesson['specs']))} | {_md_score(lesson)} |")  # fmt: skip
    if submission.get("errors"):
        lines += ["", "## Notes from the grader", "", md_code_block("\n".join(map(str, submission["errors"])))]
    for lesson in lessons:
        red = [spec for spec in lesson["specs"] if spec["status"] != "passed"]
        if not red and not lesson.get("errors"):
            continue
        lines += ["", f"## {lesson['lesson']}: {md_text(lesson.get('title', ''))}"]
        if lesson.get("errors"):
            lines += ["", md_code_block("\n".join(map(str, lesson["errors"])))]
        stage = None
        for spec in red:
            if spec.get("stage") != stage:
                stage = spec.get("stage")
                lines += ["", f"### {md_text(spec.get('stage_title') or stage or 'Specs')}"]
            lines += ["", f"{md_code_span(spec['spec'])} ({spec['status']})", "", md_code_block(spec.get("message") or spec["status"])]
            if spec.get("hint"):
                lines += ["", f"Hint: {md_text(spec['hint'], FEEDBACK_LIMIT)}"]
    return "\n".join(lines) + "\n"


def _write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # ASCII escapes keep any stray surrogate of a learner's output encodable.
    path.write_text(json.dumps(data, indent=2, ensure_ascii=True, allow_nan=False) + "\n", encoding="utf-8")
    return path


def write_reports(submissions: list[dict], out: Path) -> list[Path]:
    """Write every report of the module docstring into ``out`` and return the paths written.

    Every submission is checked first (ValueError for one that does not fit the schema), so bad input writes nothing.
    """
    for submission in submissions:
        validate(submission)
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    written = []
    for submission, stem in zip(submissions, file_stems(s["learner"] for s in submissions)):
        written.append(_write_json(out / f"{stem}.json", submission))
        written.append(_write_json(out / "gradescope" / stem / "results.json", gradescope_results(submission)))
        feedback = out / "feedback" / f"{stem}.md"
        feedback.write_text(feedback_markdown(submission), encoding="utf-8")
        written.append(feedback)
    written.append(write_gradebook(submissions, out / "gradebook.csv"))
    junit = out / "junit.xml"
    junit.write_bytes(junit_xml(submissions))
    written.append(junit)
    return written
