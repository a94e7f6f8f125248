"""Grading: hostile and malformed submissions get exactly what their real code earns, and nothing is lost.

The corpus in tests/hostile/ is graded against the toy course (tests/fixtures/minicourse): L01 has
``add`` (2 points over 2 specs) and ``Counter.bump`` (1 point); L02 doubles with L01's add (2 points).
Each hostile submission only touches L01 and states the score it must get in ``expected.json`` (and, with
``"needs_root": true``, that it is graded only where each run gets a uid of its own: as the grader's own user
it would read the reference, or kill the grader).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from grader.sandbox import confine, run
from grader.grading import grade as grade_module
from grader.grading.grade import Course, Settings, _reference_run, default_sandbox, grade, write_results
from grader.sandbox.run import read_results

HOSTILE = Path(__file__).parent / "hostile"
ROOT = os.geteuid() == 0
CORPUS = sorted(
    p.name for p in HOSTILE.iterdir()
    if (p / "expected.json").is_file() and (ROOT or not json.loads((p / "expected.json").read_text()).get("needs_root"))
)  # fmt: skip
# What hostile submissions try to leave on the host: files in the shared temporary folders, a marker written by a
# process that would outlive its run.
LEFT_BEHIND = [Path(folder) / name for folder in ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir()) for name in ("llmfs-hostile-writes-tmp", "llmfs-hostile-lingers")]
only_as_root = pytest.mark.skipif(not ROOT, reason="runs get uids and mount namespaces of their own only when the grader is root")
# Short limits keep the corpus fast; memory is capped low so that the allocating submission hits the limit
# in well under its spec timeout even on a loaded machine.
FAST = Settings(spec_timeout=3, run_timeout=40, jobs=2, sandbox=replace(default_sandbox(), memory_bytes=5 << 29))


def by_learner(results: list[dict]) -> dict[str, dict]:
    return {result["learner"]: result for result in results}


def course_fingerprint(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded_corpus(tmp_path_factory) -> tuple[dict[str, dict], Path, dict[str, bytes], float]:
    """The whole hostile corpus graded in one run against a fresh toy course, and when grading ended."""
    from conftest import make_mini_course

    base = tmp_path_factory.mktemp("corpus")
    os.chmod(base, 0o755)
    root = make_mini_course(base / "course")
    before = course_fingerprint(root)
    submissions = base / "submissions"
    shutil.copytree(HOSTILE, submissions)
    for path in LEFT_BEHIND:
        path.unlink(missing_ok=True)
    results = grade([submissions / name for name in CORPUS], course=Course(root), settings=FAST)
    return by_learner(results), root, before, time.monotonic()


@pytest.mark.parametrize("name", CORPUS)
def test_hostile_submission_gets_exactly_its_score(graded_corpus, name: str):
    results, *_ = graded_corpus
    expected = json.loads((HOSTILE / name / "expected.json").read_text())["score"]
    lessons = {item["lesson"]: item for item in results[name]["lessons"]}
    got = results[name]["score"]
    detail = [(s["spec"], s["status"], s["message"][:80]) for s in lessons["L01"]["specs"]]
    assert got == expected, f"{name}: scored {got}, must score {expected}; L01 specs: {detail}"
    assert lessons["L02"]["score"] == 0, "L02 was never touched: it stays the stub"


def test_a_run_always_has_a_row_for_every_submission(graded_corpus):
    results, *_ = graded_corpus
    assert sorted(results) == CORPUS


def test_hostile_submissions_leave_the_course_intact(graded_corpus):
    _, root, before, _ = graded_corpus
    assert course_fingerprint(root) == before, "a submission changed the pristine course"


def test_timeouts_and_crashes_are_explained(graded_corpus):
    results, *_ = graded_corpus
    loops = {s["spec"]: s for s in results["loops_forever"]["lessons"][0]["specs"]}
    assert "Timeout" in loops["test_toy.py::test_add_small"]["message"]
    assert any("time limit" in e for e in results["loops_at_import"]["lessons"][0]["errors"])


def _run_uids_alive() -> list[int]:
    return [pid for pid, _, uid in confine._processes() if uid in confine.RUN_UIDS]


def test_nothing_of_a_run_outlives_it(graded_corpus):
    """A setsid()'ed, double-forked grandchild is killed with its run: no process of any run's uid is left, and
    the marker it would have written two seconds later never appears."""
    *_, graded_at = graded_corpus
    if ROOT:
        assert _run_uids_alive() == [], "processes of a run's uid outlived grading"
    time.sleep(max(0.0, graded_at + 2.5 - time.monotonic()))
    assert [path for path in LEFT_BEHIND if path.name == "llmfs-hostile-lingers" and path.exists()] == []


@only_as_root
def test_temporary_folders_are_private_to_each_run(graded_corpus):
    """What a run writes to /tmp, /var/tmp, /dev/shm or its TMPDIR is its own, and gone with it."""
    assert [path for path in LEFT_BEHIND if path.exists()] == []


def test_malformed_result_lines_are_ignored(tmp_path: Path):
    """A line with the run's secret but a field missing or of another type is not a result (it once crashed grading)."""
    good = {"nonce": "s3cret", "nodeid": "exercises/l01/test_a.py::test_x", "when": "call", "outcome": "failed", "message": "no", "duration": 0.1}
    forged = [{key: value for key, value in good.items() if key != missing} for missing in good if missing != "nonce"]
    forged += [{**good, "outcome": "passed", key: value} for key, value in (("message", None), ("duration", "1"), ("when", "later"), ("nodeid", 3))]
    lines = [json.dumps(line) for line in (*forged, good)] + ["[" * 100_000, json.dumps({**good, "duration": float("nan")})]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    result = read_results(tmp_path / "r.jsonl", "s3cret")
    assert {key: spec.outcome for key, spec in result.specs["l01"].items()} == {"test_a.py::test_x": "failed"}


def test_one_submissions_failure_is_its_own(mini_course_two: Path, tmp_path: Path, monkeypatch):
    """Whatever goes wrong while grading one submission, reading it or running it, is an error on its own row;
    the others are graded as usual."""
    from grader.grading import grade as grading

    subs = tmp_path / "subs"
    for name in ("honest", "unreadable", "broken"):
        _reference_submission(subs / name, mini_course_two)
    real_load, real_run = grading.load_submission, grading._run_lesson

    def failing_load(path, lessons):
        if Path(path).name == "unreadable":
            raise KeyError("a field intake did not expect")
        return real_load(path, lessons)

    def failing_run(course, submission, lesson, mode, settings):
        if submission.learner == "broken" and lesson.id == "L02":
            raise RuntimeError("a disk went away")
        return real_run(course, submission, lesson, mode, settings)

    monkeypatch.setattr(grading, "load_submission", failing_load)
    monkeypatch.setattr(grading, "_run_lesson", failing_run)
    results = by_learner(grade(sorted(subs.iterdir()), course=Course(mini_course_two), settings=FAST))
    assert results["honest"]["score"] == 5
    assert results["unreadable"]["score"] == 0 and "a field intake did not expect" in " ".join(results["unreadable"]["errors"])
    assert results["broken"]["lessons"][0]["score"] == 3, "its L01 run was fine"
    assert "a disk went away" in " ".join(results["broken"]["lessons"][1]["errors"])


@only_as_root
def test_runs_do_not_interfere(tmp_path: Path):
    """A submission that kills every process it can and goes after other runs' files for as long as its run
    lasts, graded beside honest ones that run meanwhile: they get their full marks."""
    from conftest import make_mini_course

    os.chmod(tmp_path, 0o755)
    root = make_mini_course(tmp_path / "course")
    shutil.copytree(HOSTILE / "attacks_neighbours", tmp_path / "attacks_neighbours")
    for name in ("honest", "honest_too", "honest_also"):
        shutil.copytree(HOSTILE / "honest", tmp_path / name)
    results = by_learner(grade(sorted(tmp_path.glob("[ah]*")), course=Course(root), settings=FAST))
    assert {name: result["score"] for name, result in results.items()} == {"attacks_neighbours": 1, "honest": 3, "honest_too": 3, "honest_also": 3}


def test_the_reference_scores_full_marks_whatever_tmpdir(mini_course_two: Path, tmp_path: Path, monkeypatch):
    """The grader's TMPDIR is not writable by the runs' users (and the zygotes started with it): each run's
    ``tmp_path`` and temporary files are in its own scratch all the same."""
    closed = tmp_path / "not-for-runs"
    closed.mkdir(mode=0o755)
    monkeypatch.setenv("TMPDIR", str(closed))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(run, "_idle", [])  # fresh zygotes, which cache this TMPDIR as they start
    learner = _reference_submission(tmp_path / "reference", mini_course_two)
    (result,) = grade([learner], course=Course(mini_course_two), settings=FAST)
    assert result["score"] == 5, [(s["spec"], s["message"]) for lesson in result["lessons"] for s in lesson["specs"]]


def test_a_submissions_time_is_bounded(mini_course: Path, tmp_path: Path, monkeypatch):
    """A submission that sleeps just under the spec timeout in every spec is stopped at its time budget (the
    reference's own time for the lesson, times a factor, with a floor: here the floor, 1 s, whatever the load)
    instead of holding a worker for all of them; one identical to the reference gets the reference's own run."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the reference is timed in this test
    shutil.copytree(HOSTILE / "sleeps", tmp_path / "sleeps")
    _reference_submission(tmp_path / "reference", mini_course)
    tight = replace(FAST, spec_timeout=10, budget_floor=1.0, budget_factor=0.01)
    reference_took = time.monotonic()
    grade([tmp_path / "reference"], course=Course(mini_course), settings=tight)  # times the reference
    reference_took = time.monotonic() - reference_took
    start = time.monotonic()
    results = by_learner(grade([tmp_path / "sleeps", tmp_path / "reference"], course=Course(mini_course), settings=tight))
    took = time.monotonic() - start
    sleeper = results["sleeps"]
    assert sleeper["score"] == 0 and results["reference"]["score"] == 3
    assert any("time budget" in error for error in sleeper["errors"]), sleeper["errors"]
    assert any("stopped at its time limit, 1.0 s, its share of the submission's time budget" in error for error in sleeper["lessons"][0]["errors"])
    assert took < 10 + reference_took, f"the sleeper held grading for {took:.1f} s; unbounded it takes over 10"


def test_the_reference_is_timed_once(mini_course: Path, tmp_path: Path, monkeypatch):
    """The reference's time for a lesson is kept: a second grading of the same course does not run it again, and
    a change to the lesson's specs does."""
    learner = _reference_submission(tmp_path / "ann", mini_course)
    module = learner / "exercises" / "l01" / "toy.py"
    module.write_text(module.read_text() + "\n# Ann's own\n")  # not byte-identical: graded in a run of its own
    settings = replace(FAST, budget_floor=1.0)
    assert grade([learner], course=Course(mini_course), settings=settings)[0]["score"] == 3
    calls = []
    monkeypatch.setattr(grade_module, "_reference_run", lambda *args: calls.append(args) or pytest.fail("timed again"))
    assert grade([learner], course=Course(mini_course), settings=settings)[0]["score"] == 3
    assert calls == []
    spec = next((mini_course / "exercises" / "l01").glob("test_*.py"))
    spec.write_text(spec.read_text() + "\n# changed\n")
    monkeypatch.undo()
    monkeypatch.setattr(grade_module, "_reference_run", lambda *args: calls.append(args) or _reference_run(*args))
    grade([learner], course=Course(mini_course), settings=settings)
    assert len(calls) == 1, "the lesson's specs changed: its reference is timed again"


def _reference_submission(folder: Path, root: Path) -> Path:
    for package in ("l01", "l02"):
        (folder / "exercises" / package).mkdir(parents=True)
        for module in (root / "solutions" / package).glob("*.py"):
            shutil.copyfile(module, folder / "exercises" / package / module.name)
    return folder


def test_isolated_and_cumulative(mini_course_two: Path, tmp_path: Path):
    """A broken L01 costs L02 nothing in isolation, and everything in the learner's own chain (run when asked)."""
    learner = _reference_submission(tmp_path / "bob", mini_course_two)
    (learner / "exercises" / "l01" / "toy.py").write_text("def add(a, b):\n    return a * b\n")
    (result,) = grade([learner], course=Course(mini_course_two), settings=replace(FAST, cumulative=True))
    l02 = result["lessons"][1]
    assert l02["isolated"] == {"score": 2.0, "passed": 2, "total": 2}
    assert l02["cumulative"]["passed"] == 1, "double(0) = 0 * 0 passes, double(3) = 9 fails"
    assert l02["score"] == 2.0, "the manifest says L02 counts the isolated run"
    (result,) = grade([learner], course=Course(mini_course_two), settings=FAST)
    assert result["lessons"][1]["cumulative"] is None, "not asked for and not counted: not run"
    assert result["lessons"][1]["isolated"] == l02["isolated"]


def test_malformed_submissions_get_clear_messages(mini_course_two: Path, tmp_path: Path):
    subs = tmp_path / "subs"
    good = _reference_submission(subs / "good", mini_course_two)

    syntax = _reference_submission(subs / "syntax", mini_course_two)
    (syntax / "exercises" / "l01" / "toy.py").write_text("def add(a, b)\n    return a + b\n")

    latin = _reference_submission(subs / "latin1", mini_course_two)
    (latin / "exercises" / "l01" / "toy.py").write_bytes("# caf\xe9\ndef add(a, b):\n    return a + b\n".encode("latin-1"))

    huge = _reference_submission(subs / "huge", mini_course_two)
    (huge / "exercises" / "l01" / "toy.py").write_text("def add(a, b):\n    return a + b\n" + "#" * (2 << 20))

    linked = _reference_submission(subs / "linked", mini_course_two)
    (linked / "exercises" / "l01" / "toy.py").unlink()
    (linked / "exercises" / "l01" / "toy.py").symlink_to("/etc/passwd")

    with zipfile.ZipFile(subs / "zipped.zip", "w") as archive:
        archive.write(good / "exercises" / "l01" / "toy.py", "zipped/exercises/l01/toy.py")
        archive.writestr("../../evil.py", "print('escaped')")
        archive.writestr("/abs/evil.py", "print('escaped')")
        link = zipfile.ZipInfo("zipped/exercises/l02/double.py")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (subs / "notes.txt").write_text("not a submission")

    repo = _reference_submission(subs / "gitrepo", mini_course_two)
    git = ["git", "-C", str(repo), "-c", "user.email=l@example.org", "-c", "user.name=Learner"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "my work"], check=True)
    (repo / "exercises" / "l01" / "toy.py").write_text("def add(a, b):\n    return 0\n")  # uncommitted: ignored

    paths = sorted(subs.iterdir())
    results = by_learner(grade(paths, course=Course(mini_course_two), settings=FAST))
    assert sorted(results) == sorted(p.name.removesuffix(".zip").removesuffix(".txt") if p.suffix == ".zip" else p.name for p in paths)

    def errors(name: str) -> str:
        return " | ".join(results[name]["errors"] + [e for item in results[name]["lessons"] for e in item["errors"]])

    assert results["good"]["score"] == 5
    assert results["gitrepo"]["score"] == 5, "the committed work is graded, not the working tree"
    assert results["syntax"]["lessons"][0]["score"] == 0 and "SyntaxError at line 1" in errors("syntax")
    assert results["syntax"]["lessons"][1]["score"] == 2, "L02 in isolation does not suffer from L01's syntax error"
    assert results["latin1"]["lessons"][0]["score"] == 0 and "not UTF-8" in errors("latin1")
    assert results["huge"]["lessons"][0]["score"] == 0 and "byte limit" in errors("huge")
    assert results["linked"]["lessons"][0]["score"] == 0 and "symbolic link" in errors("linked")
    assert results["zipped"]["lessons"][0]["score"] == 3
    assert "outside the archive" in errors("zipped") and "symbolic link" in errors("zipped")
    assert "zip" in errors("corrupt") and results["corrupt"]["score"] == 0
    assert "not a directory" in errors("notes.txt")


def test_reports_are_written_for_every_submission(graded_corpus, tmp_path: Path):
    results, *_ = graded_corpus
    written = write_results(list(results.values()), tmp_path / "out")
    names = {p.name for p in written}
    assert {"gradebook.csv", "junit.xml", "honest.json"} <= names
    assert json.loads((tmp_path / "out" / "gradescope" / "honest" / "results.json").read_text())["score"] == 3
