"""A pytest plugin that reports one JSON line per spec outcome to a file outside the tree under test.

Loaded by the runner with ``-p grader.sandbox.pytest_plugin --llmfs-results-fd FD`` (a file the runner opened before
pytest started) and a one-time secret in the environment variable ``LLMFS_NONCE``, which the runner requires
on every line. Each line is ``{"nonce", "nodeid", "when", "outcome", "message", "duration"}`` and is flushed as
soon as it is known, so a run that dies half-way keeps what it reached.

In grading, this process never runs the learner's code: the graded modules are proxies into a sandboxed
child (see :mod:`grader.sandbox.remote`), so what this plugin writes is decided here. Only its own call of the spec
function writes "passed"; pytest's reports can add failures and errors.
"""
from __future__ import annotations

import json
import os
import time
import traceback

import pytest

NONCE_VARIABLE = "LLMFS_NONCE"

_write, _dumps, _clock = os.write, json.dumps, time.perf_counter


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    """The first line a learner should read: our own assertion message, or the error and its text."""
    text = str(excinfo.value).strip()
    first = text.splitlines()[0] if text else ""
    if excinfo.errisinstance(NotImplementedError):
        return f"not implemented: {first}" if first else "not implemented"
    if excinfo.errisinstance(AssertionError):
        return first or "assertion failed"
    return f"{excinfo.typename}: {first}" if first else excinfo.typename


class ResultWriter:
    def __init__(self, fd: int, nonce: str) -> None:
        self._fd = fd
        self._nonce = nonce

    def write(self, **record: object) -> None:
        _write(self._fd, (_dumps({"nonce": self._nonce, **record}) + "\n").encode())

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function):
        """Call the spec ourselves: the only place that may write "passed"."""
        arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        start = _clock()
        try:
            pyfuncitem.obj(**arguments)
        except BaseException as exc:
            if isinstance(exc, MemoryError):  # free what the spec hoarded, or reporting could not allocate either
                traceback.clear_frames(exc.__traceback__)
            info = pytest.ExceptionInfo.from_exception(exc)
            skipped = isinstance(exc, pytest.skip.Exception)
            outcome, message = ("skipped", f"skipped: {exc}") if skipped else ("failed", one_line(info))
            self.write(nodeid=pyfuncitem.nodeid, when="call", outcome=outcome, message=message, duration=round(_clock() - start, 4))
            raise
        self.write(nodeid=pyfuncitem.nodeid, when="call", outcome="passed", message="", duration=round(_clock() - start, 4))
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        """Setup and teardown errors (pytest's view can add failures, never a pass)."""
        outcome = yield
        report = outcome.get_result()
        if report.when != "call" and report.failed and call.excinfo is not None:
            self.write(nodeid=report.nodeid, when=report.when, outcome="error", message=one_line(call.excinfo), duration=round(report.duration, 4))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.write(nodeid=report.nodeid, when="collect", outcome="error", message=f"collection error: {text[-1] if text else 'unknown'}", duration=0.0)

    def pytest_unconfigure(self) -> None:
        os.close(self._fd)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--llmfs-results-fd", type=int, default=None, help="append spec outcomes as JSON lines to this open file")


def pytest_configure(config: pytest.Config) -> None:
    fd = config.getoption("--llmfs-results-fd")
    if fd is not None:
        nonce = os.environ.pop(NONCE_VARIABLE, "")
        config.pluginmanager.register(ResultWriter(fd, nonce), "llmfs-results-writer")
