"""The course tests itself: every lesson present is proven by the self-check (see grader/selfcheck.py)."""
from __future__ import annotations

import os

import pytest

from grader.lessons import load_lessons
from grader.selfcheck import LessonCheck, check_lesson, check_sync

LESSONS = load_lessons()
MIN_MUTANTS = {"L01": 8, "L10": 8}  # the issues ask for more mutants where the classic mistakes are many
_checks: dict[str, LessonCheck] = {}


def checked(lesson) -> LessonCheck:
    """Run a lesson's self-check once (stubs, reference and mutants in parallel) and share it."""
    if lesson.id not in _checks:
        _checks[lesson.id] = check_lesson(lesson, jobs=os.cpu_count())
    return _checks[lesson.id]


def by_id(lesson) -> str:
    return lesson.id


def test_there_are_lessons():
    assert LESSONS, "no exercises/lNN/lesson.toml found"


def test_exercises_are_in_sync_with_solutions():
    assert check_sync() == []


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_manifest_and_files(lesson):
    problems = [p for p in checked(lesson).problems if p.startswith(("manifest", "stage", "no README", "spec "))]
    assert problems == []


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_every_spec_fails_on_the_stubs_with_one_line(lesson):
    check = checked(lesson)
    problems = [p for p in check.problems if "on the stubs" in p]
    assert problems == []
    assert check.stub_red == len(lesson.specs)


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_every_spec_passes_on_the_reference(lesson):
    check = checked(lesson)
    problems = [p for p in check.problems if "on the reference" in p]
    assert problems == []
    assert check.reference_green == len(lesson.specs)


@pytest.mark.parametrize("lesson", LESSONS, ids=by_id)
def test_every_mutant_is_caught(lesson):
    check = checked(lesson)
    wanted = MIN_MUTANTS.get(lesson.id, 5)
    assert len(check.mutants) >= wanted, f"{lesson.id} has {len(check.mutants)} mutants; it needs at least {wanted}"
    assert {name: caught for name, caught in check.mutants.items() if not caught} == {}


def test_the_self_check_finds_nothing_else():
    leftovers = [f"{lesson.id}: {p}" for lesson in LESSONS for p in checked(lesson).problems]
    assert leftovers == []
