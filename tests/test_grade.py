"""Grading: hostile and malformed submissions get exactly what their real code earns, and nothing is lost.

The corpus in tests/hostile/ is graded against the toy course (tests/fixtures/minicourse): L01 has
``add`` (2 points over 2 specs) and ``Counter.bump`` (1 point); L02 doubles with L01's add (2 points).
Each hostile submission only touches L01 and states the score it must get in ``expected.json``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from grader.grade import Course, Settings, default_sandbox, grade, write_results

HOSTILE = Path(__file__).parent / "hostile"
CORPUS = sorted(p.name for p in HOSTILE.iterdir() if (p / "expected.json").is_file())
# Short limits keep the corpus fast; memory is capped low so that the allocating submission hits the limit
# in well under its spec timeout even on a loaded machine.
FAST = Settings(spec_timeout=3, run_timeout=40, jobs=2, sandbox=replace(default_sandbox(), memory_bytes=5 << 29))


def by_learner(results: list[dict]) -> dict[str, dict]:
    return {result["learner"]: result for result in results}


def course_fingerprint(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded_corpus(tmp_path_factory) -> tuple[dict[str, dict], Path, dict[str, bytes]]:
    """The whole hostile corpus graded in one run against a fresh toy course."""
    from conftest import make_mini_course

    base = tmp_path_factory.mktemp("corpus")
    os.chmod(base, 0o755)
    root = make_mini_course(base / "course")
    before = course_fingerprint(root)
    submissions = base / "submissions"
    shutil.copytree(HOSTILE, submissions)
    results = grade([submissions / name for name in CORPUS], course=Course(root), settings=FAST)
    return by_learner(results), root, before


@pytest.mark.parametrize("name", CORPUS)
def test_hostile_submission_gets_exactly_its_score(graded_corpus, name: str):
    results, _, _ = graded_corpus
    expected = json.loads((HOSTILE / name / "expected.json").read_text())["score"]
    lessons = {item["lesson"]: item for item in results[name]["lessons"]}
    got = results[name]["score"]
    detail = [(s["spec"], s["status"], s["message"][:80]) for s in lessons["L01"]["specs"]]
    assert got == expected, f"{name}: scored {got}, must score {expected}; L01 specs: {detail}"
    assert lessons["L02"]["score"] == 0, "L02 was never touched: it stays the stub"


def test_a_run_always_has_a_row_for_every_submission(graded_corpus):
    results, _, _ = graded_corpus
    assert sorted(results) == CORPUS


def test_hostile_submissions_leave_the_course_intact(graded_corpus):
    _, root, before = graded_corpus
    assert course_fingerprint(root) == before, "a submission changed the pristine course"


def test_timeouts_and_crashes_are_explained(graded_corpus):
    results, _, _ = graded_corpus
    loops = {s["spec"]: s for s in results["loops_forever"]["lessons"][0]["specs"]}
    assert "Timeout" in loops["test_toy.py::test_add_small"]["message"]
    assert any("time limit" in e for e in results["loops_at_import"]["lessons"][0]["errors"])


def _reference_submission(folder: Path, root: Path) -> Path:
    for package in ("l01", "l02"):
        (folder / "exercises" / package).mkdir(parents=True)
        for module in (root / "solutions" / package).glob("*.py"):
            shutil.copyfile(module, folder / "exercises" / package / module.name)
    return folder


def test_isolated_and_cumulative(mini_course_two: Path, tmp_path: Path):
    """A broken L01 costs L02 nothing in isolation, and everything in the learner's own chain."""
    learner = _reference_submission(tmp_path / "bob", mini_course_two)
    (learner / "exercises" / "l01" / "toy.py").write_text("def add(a, b):\n    return a * b\n")
    (result,) = grade([learner], course=Course(mini_course_two), settings=FAST)
    l02 = result["lessons"][1]
    assert l02["isolated"] == {"score": 2.0, "passed": 2, "total": 2}
    assert l02["cumulative"]["passed"] == 1, "double(0) = 0 * 0 passes, double(3) = 9 fails"
    assert l02["score"] == 2.0, "the manifest says L02 counts the isolated run"


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
    results, _, _ = graded_corpus
    written = write_results(list(results.values()), tmp_path / "out")
    names = {p.name for p in written}
    assert {"gradebook.csv", "junit.xml", "honest.json"} <= names
    assert json.loads((tmp_path / "out" / "gradescope" / "honest" / "results.json").read_text())["score"] == 3
