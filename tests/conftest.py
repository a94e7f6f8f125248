"""Fixtures for the course's own tests: a tiny synthetic course (tests/fixtures/minicourse) to exercise the
machinery on, fast and independent of the real lessons."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from grader.lessons import COURSE_ROOT
from grader.sync import sync

MINI = Path(__file__).parent / "fixtures" / "minicourse"

# Some tests import the reference itself (solutions/, e.g. L10's data generator); plain `pytest` puts only
# tests/ on the path.
if str(COURSE_ROOT) not in sys.path:
    sys.path.append(str(COURSE_ROOT))

# The mini course and the hostile submissions are data for the tests, not tests themselves.
collect_ignore_glob = ["fixtures/*", "hostile/*"]


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory):
    """The grader's caches (the reference's times) start empty in every test session and stay out of ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    yield
    patch.undo()


def make_mini_course(root: Path, lessons: tuple[str, ...] = ("l01", "l02")) -> Path:
    """A course root with toy lessons (L01 adds, L02 doubles with L01), their reference, stubs and mutants."""
    shutil.copytree(MINI, root, ignore=lambda folder, names: [n for n in names if n in ("__pycache__",) or (n.startswith("l0") and n not in lessons)])
    (root / "data").mkdir()
    shutil.copyfile(COURSE_ROOT / "exercises" / "conftest.py", root / "exercises" / "conftest.py")
    for package in ("exercises", "solutions", *(f"solutions/{lesson}" for lesson in lessons)):
        (root / package / "__init__.py").write_text("")
    sync(root)
    return root


@pytest.fixture
def mini_course(tmp_path: Path) -> Path:
    """The toy course with L01 only."""
    return make_mini_course(tmp_path / "course", ("l01",))


@pytest.fixture
def mini_course_two(tmp_path: Path) -> Path:
    """The toy course with L01 and L02 (which builds on L01)."""
    return make_mini_course(tmp_path / "course")
