"""Shared fixtures for the lesson specs, and a calm one-line report for unimplemented stubs."""
from __future__ import annotations

from pathlib import Path

import pytest

COURSE_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The course's ``data/`` folder (Tiny Shakespeare, GPT-2's vocabulary and merges, checkpoints)."""
    return COURSE_ROOT / "data"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A stub that raises NotImplementedError is "not started", not a crash: show one line, no traceback."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(NotImplementedError):
        report.longrepr = f"NOT IMPLEMENTED: {str(call.excinfo.value).splitlines()[0] if str(call.excinfo.value) else call.excinfo.typename}"


try:  # property specs: the same examples on every run, no example database written into the tree
    from hypothesis import settings

    settings.register_profile("course", derandomize=True, database=None, deadline=None, print_blob=False)
    settings.load_profile("course")
except ImportError:  # pragma: no cover - hypothesis comes with the dev extra
    pass
