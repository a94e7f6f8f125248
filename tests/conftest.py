"""Fixtures for the course's own tests: a tiny synthetic course to exercise the machinery on."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.lessons import COURSE_ROOT

MINI_SOLUTION = '''\
"""A toy lesson."""


def add(a: int, b: int) -> int:
    """Return a + b.

    >>> add(2, 3)
    5
    """
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        """Add ``by`` and return the new count."""
        ### BEGIN SOLUTION
        self.count += by
        return self.count
        ### END SOLUTION
'''

MINI_SPECS = '''\
from .toy import Counter, add


def test_add_small():
    assert add(2, 3) == 5, "add(2, 3) should be 5"


def test_add_negative():
    assert add(-2, 3) == 1, "add(-2, 3) should be 1"


def test_counter():
    counter = Counter()
    counter.bump()
    assert counter.bump(2) == 3, "two bumps (1, then 2) should give 3"
'''

MINI_MANIFEST = '''\
id = "L01"
title = "Toy lesson"
summary = "Adds numbers"
depends = []
modules = ["toy.py"]

[[stages]]
name = "add"
title = "Adding"
points = 2
specs = ["test_toy.py::test_add_small", "test_toy.py::test_add_negative"]
hints = ["Think plus.", "return a + b"]

[[stages]]
name = "counter"
title = "Counting"
points = 1
specs = ["test_toy.py::test_counter"]
hints = ["Keep state on self.", "self.count += by; return self.count"]
'''

MINI_MUTANT = '''\
"""Subtracts instead of adding."""
TARGET = "toy.py"


def add(a, b):
    return a - b
'''


@pytest.fixture
def mini_course(tmp_path: Path) -> Path:
    """A course root with one lesson (L01 "toy"), its reference, generated stubs and one mutant."""
    return make_mini_course(tmp_path / "course")


def make_mini_course(root: Path) -> Path:
    (root / "solutions" / "l01").mkdir(parents=True)
    (root / "exercises" / "l01").mkdir(parents=True)
    (root / "tests" / "mutants" / "l01").mkdir(parents=True)
    (root / "data").mkdir()
    shutil.copyfile(COURSE_ROOT / "exercises" / "conftest.py", root / "exercises" / "conftest.py")
    for package in ("exercises", "solutions"):
        (root / package / "__init__.py").write_text("")
    (root / "solutions" / "l01" / "__init__.py").write_text("")
    (root / "solutions" / "l01" / "toy.py").write_text(MINI_SOLUTION)
    (root / "exercises" / "l01" / "test_toy.py").write_text(MINI_SPECS)
    (root / "exercises" / "l01" / "lesson.toml").write_text(MINI_MANIFEST)
    (root / "exercises" / "l01" / "README.md").write_text("# Toy\n")
    (root / "tests" / "mutants" / "l01" / "subtracts.py").write_text(MINI_MUTANT)
    from grader.sync import sync

    sync(root)
    return root
