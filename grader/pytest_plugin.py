"""A pytest plugin that writes one JSON line per spec outcome to a file outside the tree under test.

Loaded by the runner with ``-p grader.pytest_plugin --llmfs-results PATH``. Each line is
``{"nodeid", "when", "outcome", "message", "duration"}``; a line is flushed as soon as a phase ends, so a
run that dies half-way still leaves the outcomes it reached.
"""
from __future__ import annotations

import json

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--llmfs-results", default=None, help="append spec outcomes as JSON lines to this file")


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
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed at session end

    def write(self, **record: object) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if report.when != "call" and report.passed:
            return  # a setup or teardown that went well says nothing
        message = ""
        if call.excinfo is not None and not report.skipped:
            message = one_line(call.excinfo)
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = f"skipped: {report.longrepr[2]}"
        outcome_name = report.outcome if report.when == "call" or report.skipped else "error"
        self.write(
            nodeid=report.nodeid,
            when=report.when,
            outcome=outcome_name,
            message=message,
            duration=round(report.duration, 4),
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.write(
                nodeid=report.nodeid,
                when="collect",
                outcome="error",
                message=f"collection error: {text[-1] if text else 'unknown'}",
                duration=0.0,
            )

    def pytest_unconfigure(self) -> None:
        self._file.close()


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--llmfs-results")
    if path:
        config.pluginmanager.register(ResultWriter(path), "llmfs-results-writer")
