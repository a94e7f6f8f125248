"""The Gradescope autograder (``llmfs gradescope``): built by the command, unpacked into a root laid out as
Gradescope lays it out (``source/``, ``submission/``, ``results/``), and run as Gradescope runs it, by its
``run_autograder`` (``setup.sh`` is skipped: the dependencies are installed here; its text is checked), on the
reference, a stub, hostile submissions and broken set-ups. Every ``results.json`` is checked against the fields
of Gradescope's specification and against the scores it must give.

The course's package grades L03 and L06 (small; L06 builds on L03 and L04, so it holds their reference). The
hostile submissions are written against the toy course (tests/fixtures/minicourse): its package grades L01 and
L02 (L02 builds on L01, so the package holds L01's reference for a submission to hunt). All the runs go at
a few at a time, each in a root of its own.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.cli import main as llmfs
from grader.lessons import COURSE_ROOT, load_lessons, tomllib

HOSTILE = Path(__file__).parent / "hostile"
ROOT = os.geteuid() == 0
COURSE_LESSONS = ("L03", "L06")
only_as_root = pytest.mark.skipif(not ROOT, reason="runs get uids and mount namespaces of their own only when the grader is root")

# Gradescope's specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/): every field it names.
TOP_FIELDS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format", "visibility",
              "stdout_visibility", "extra_data", "tests", "leaderboard"}  # fmt: skip
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def number(value, what: str) -> float:
    assert isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value), f"{what}: {value!r} is not a number"
    return float(value)


def check_specification(results: dict) -> None:
    """``results`` has only the fields Gradescope documents, each of the documented type and values."""
    json.dumps(results, allow_nan=False)
    assert isinstance(results, dict) and set(results) <= TOP_FIELDS, set(results) - TOP_FIELDS
    tests = results.get("tests", [])
    assert isinstance(tests, list)
    assert "score" in results or all("score" in test for test in tests), "a score at the top or on every test"
    if "score" in results:
        number(results["score"], "score")
    assert number(results.get("execution_time", 0), "execution_time") >= 0
    for field in ("output_format", "test_output_format", "test_name_format"):
        assert results.get(field, "text") in FORMATS, field
    for field in ("visibility", "stdout_visibility"):
        assert results.get(field, "visible") in VISIBILITIES, field
    assert isinstance(results.get("output", ""), str) and isinstance(results.get("extra_data", {}), dict)
    for test in tests:
        assert isinstance(test, dict) and set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert isinstance(test.get("name", ""), str) and isinstance(test.get("number", ""), str)
        assert isinstance(test.get("output", ""), str)
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("visibility", "visible") in VISIBILITIES
        for field in ("output_format", "name_format"):
            assert test.get(field, "text") in FORMATS, field
        assert isinstance(test.get("tags", []), list) and all(isinstance(tag, str) for tag in test.get("tags", []))
        if "score" in test and "max_score" in test:
            assert 0 <= number(test["score"], "score") <= number(test["max_score"], "max_score") or test["max_score"] == 0
    if "score" in results and tests:
        assert results["score"] == pytest.approx(math.fsum(test.get("score", 0.0) for test in tests))


@dataclass
class Outcome:
    returncode: int
    results: dict
    log: str
    root: Path

    @property
    def tests(self) -> list[dict]:
        return self.results["tests"]


def _unpack(archive: Path, root: Path) -> Path:
    root.mkdir(parents=True)
    os.chmod(root, 0o755)
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(root / "source")
    (root / "submission").mkdir()
    return root


def _modules(tree: str, course: Path, packages: dict[str, list[str]], into: Path) -> None:
    for package, modules in packages.items():
        (into / "exercises" / package).mkdir(parents=True, exist_ok=True)
        for module in modules:
            shutil.copyfile(course / tree / package / module, into / "exercises" / package / module)


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    """The two autograder zips, built by the command."""
    from conftest import make_mini_course

    base = tmp_path_factory.mktemp("packages")
    os.chmod(base, 0o755)
    mini = make_mini_course(base / "mini")
    assert llmfs(["gradescope", str(base / "course.zip"), *COURSE_LESSONS, "--root", str(COURSE_ROOT)]) == 0
    assert llmfs(["gradescope", str(base / "mini.zip"), "--root", str(mini)]) == 0
    return {"course": base / "course.zip", "mini": base / "mini.zip", "mini_root": mini}


@pytest.fixture(scope="module")
def autograded(packages, tmp_path_factory) -> dict[str, Outcome]:
    """Every case graded by its own ``run_autograder``, all at once."""
    base = tmp_path_factory.mktemp("gradescope")
    os.chmod(base, 0o755)
    course_modules = {"l03": ["attention.py"], "l06": ["causal.py"]}
    cases: dict[str, tuple[Path, list[str], dict[str, str]]] = {}

    def case(name: str, archive: Path, prefix: list[str] | None = None, **env: str) -> Path:
        root = _unpack(archive, base / name)
        cases[name] = (root, prefix or [], env)
        return root

    root = case("reference", packages["course"])
    _modules("solutions", COURSE_ROOT, course_modules, root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps({"id": 7, "users": [{"name": "Ada Lovelace", "email": "ada@example.com", "id": 1}]}))
    root = case("stub", packages["course"])
    _modules("exercises", COURSE_ROOT, course_modules, root / "submission")
    (root / "submission_metadata.json").write_text("{not json")  # malformed: ignored
    hostile = ["forges_verdicts", *(["hunts_reference"] if ROOT else [])]
    for name in hostile:
        root = case(name, packages["mini"])
        shutil.rmtree(root / "submission")
        shutil.copytree(HOSTILE / name, root / "submission")
    root = case("flat", packages["mini"])  # a module alone, as a drag-and-drop upload gives it
    shutil.copyfile(packages["mini_root"] / "solutions" / "l01" / "toy.py", root / "submission" / "toy.py")
    root = case("broken_config", packages["mini"])
    (root / "source" / "gradescope.json").write_text("{")
    case("no_python", packages["mini"], LLMFS_PYTHON=str(base / "no" / "python"))
    if ROOT and shutil.which("setpriv"):  # no CAP_SYS_ADMIN, as in a default Docker container
        root = case("unconfined", packages["mini"], ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin"])
        _modules("solutions", packages["mini_root"], {"l01": ["toy.py"]}, root / "submission")

    def autograde(name: str) -> Outcome:
        root, prefix, env = cases[name]
        environment = {**os.environ, "LLMFS_AUTOGRADER_ROOT": str(root), "LLMFS_PYTHON": sys.executable, **env}
        command = [*prefix, "bash", str(root / "source" / "run_autograder")]
        done = subprocess.run(command, env=environment, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        return Outcome(done.returncode, json.loads((root / "results" / "results.json").read_text(encoding="utf-8")), done.stdout, root)

    with ThreadPoolExecutor(max_workers=3) as pool:  # a few at a time: each grading run holds torch in two processes
        return dict(zip(cases, pool.map(autograde, cases)))


def test_every_results_file_follows_gradescopes_specification(autograded):
    for name, outcome in autograded.items():
        try:
            check_specification(outcome.results)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}\n{outcome.log[-3000:]}") from exc


def test_the_reference_gets_full_marks_one_test_per_stage(autograded):
    outcome = autograded["reference"]
    lessons = [lesson for lesson in load_lessons(COURSE_ROOT) if lesson.id in COURSE_LESSONS]
    assert outcome.returncode == 0, outcome.log[-3000:]
    stages = [(f"{lesson.id} · {stage.title}", stage.points) for lesson in lessons for stage in lesson.stages]
    assert [(test["name"], test["max_score"]) for test in outcome.tests] == stages
    assert all(test["score"] == test["max_score"] and test["status"] == "passed" and test["visibility"] == "visible" for test in outcome.tests), outcome.results["output"]
    assert outcome.results["score"] == sum(lesson.points for lesson in lessons) == 20
    assert outcome.results["extra_data"]["learner"] == "Ada Lovelace", "named from submission_metadata.json"
    assert outcome.results["output"].startswith("Ada Lovelace: 20 / 20 points")


def test_a_stub_gets_nothing_with_each_stages_first_hint(autograded):
    outcome = autograded["stub"]
    hints = {f"{lesson.id} · {stage.title}": stage.hints[0] for lesson in load_lessons(COURSE_ROOT) for stage in lesson.stages}
    assert outcome.returncode == 0, outcome.log[-3000:]
    assert outcome.results["score"] == 0 and len(outcome.tests) == 8
    for test in outcome.tests:
        assert test["score"] == 0 and test["status"] == "failed" and test["output_format"] in ("text", "md")
        assert "not implemented" in test["output"] and test["output"].endswith(f"Hint: {hints[test['name']]}")
    assert outcome.results["extra_data"]["learner"] == "", "a malformed submission_metadata.json is ignored"


@pytest.mark.parametrize("name", ["forges_verdicts", pytest.param("hunts_reference", marks=only_as_root)])
def test_hostile_submissions_get_exactly_their_score(autograded, name: str):
    outcome = autograded[name]
    expected = json.loads((HOSTILE / name / "expected.json").read_text())["score"]
    assert outcome.returncode == 0, outcome.log[-3000:]
    assert outcome.results["score"] == expected, [(test["name"], test["score"], test.get("output", "")[:200]) for test in outcome.tests]
    assert [test["name"] for test in outcome.tests] == ["L01 · Adding", "L01 · Counting", "L02 · Doubling"]


def test_module_files_alone_are_graded_where_they_belong(autograded):
    outcome = autograded["flat"]
    assert outcome.results["score"] == 3, outcome.results["output"]  # all of L01; L02 not sent
    assert "took toy.py as exercises/l01/toy.py" in outcome.results["output"]


def test_an_internal_error_still_writes_results(autograded):
    """Fails closed: a visible "autograder error" worth nothing, the traceback hidden; also when Python never starts."""
    for name, detail in (("broken_config", "Traceback"), ("no_python", "exited with status")):
        outcome = autograded[name]
        visible, hidden = outcome.tests
        assert outcome.returncode != 0 and outcome.results["score"] == 0
        assert visible["name"] == "autograder error" and visible["visibility"] == "visible" and visible["score"] == 0
        assert hidden["visibility"] == "hidden" and detail in hidden["output"], hidden["output"]


@only_as_root
def test_no_confinement_no_grading(autograded):
    """Where a run cannot be confined (no CAP_SYS_ADMIN), nothing of the learner's runs: an autograder error."""
    if "unconfined" not in autograded:
        pytest.skip("setpriv is not installed")
    outcome = autograded["unconfined"]
    assert outcome.results["score"] == 0 and outcome.tests[0]["name"] == "autograder error"
    assert "cannot confine" in outcome.tests[0]["output"] and "not run" in outcome.tests[0]["output"]
    assert "graded submission" not in outcome.log


def test_the_package_installs_torchs_cpu_build_and_ships_no_reference_in_reach(packages, tmp_path: Path):
    with zipfile.ZipFile(packages["course"]) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 & 0o777 for info in archive.infolist()}
        archive.extractall(tmp_path / "source")
    source = tmp_path / "source"
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755, "both scripts at the root of the zip, executable"

    pyproject = tomllib.loads((COURSE_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = next(item for item in pyproject if item.replace(" ", "").startswith("torch=="))
    setup = (source / "setup.sh").read_text()
    install = next(line for line in setup.splitlines() if "torch" in line and "pip install" in line)
    assert "--index-url https://download.pytorch.org/whl/cpu" in install and f'"{torch}"' in install
    assert (source / "constraints.txt").read_text().split() == [torch]
    commands = "\n".join(line for line in setup.lower().splitlines() if not line.lstrip().startswith("#"))
    assert not any(word in commands for word in ("nvidia", "cuda", "whl/cu1")), "never the CUDA packages"

    # The reference is only where the sandbox hides it: solutions/ at the course root, and only what L03 and L06
    # build on. The stubs are stubs, and no other file holds a reference module.
    from grader.grading.grade import Course, _hidden_folders

    assert sorted(p.name for p in (source / "solutions").iterdir()) == ["__init__.py", "l03", "l04"]
    assert not any(name.startswith(("tests/", "grader/bench/")) for name in names), "no mutants, no course tests"
    assert [p for p in source.rglob("solutions") if p != source / "solutions"] == []
    reference = {p.read_bytes() for p in (COURSE_ROOT / "solutions").glob("l*/*.py") if "### BEGIN SOLUTION" in p.read_text()}
    outside = [p for p in source.rglob("*") if p.is_file() and "solutions" not in p.relative_to(source).parts[:1]]
    assert [p for p in outside if p.read_bytes() in reference] == []
    assert not any("### BEGIN SOLUTION" in p.read_text() for p in (source / "exercises").glob("l*/*.py"))
    assert str(source) in _hidden_folders(Course(source), [tmp_path / "submission"]), "the course root is hidden from every run"
