"""A pytest plugin that reports one JSON line per spec outcome to a file outside the tree under test.

Loaded by the runner with ``-p grader.pytest_plugin --llmfs-results-fd FD`` (a file the runner opened
before the learner's code could run) and a one-time secret in the environment variable ``LLMFS_NONCE``. Each line is ``{"nonce", "nodeid", "when", "outcome", "message",
"duration"}`` and is flushed as soon as it is known, so a run that dies half-way keeps what it reached.

The learner's code runs in this process, so the plugin trusts nothing it could have changed:

- the secret is removed from the environment before any learner code is imported, and the runner drops
  lines without it (a submission cannot print or write believable results);
- **only this plugin's own call of the spec function writes "passed"**, so patching pytest's reports changes
  nothing; pytest's view can add failures and errors but never a pass, and the worst outcome wins;
- what the specs decide with (PyTorch, NumPy, the standard library, ``pytest.approx``/``raises``, the spec
  functions' code) is fingerprinted before the learner's code is imported; a spec that finishes after any of
  it was replaced is reported as an error, since its verdict can no longer be trusted.
"""
from __future__ import annotations

import importlib
import json
import os
import time
import traceback

import pytest

NONCE_VARIABLE = "LLMFS_NONCE"

# Bound now, before any learner code exists, so that replacing them later changes nothing here.
_write, _dumps, _clock = os.write, json.dumps, time.perf_counter

# What the specs use to decide: the oracles (PyTorch, NumPy, the standard library), pytest's own assertion
# helpers (approx, raises) and this plugin. Additions are fine (lazy imports add attributes); replacing or
# deleting an existing function, class or submodule is tampering. pytest's reporting machinery is not
# watched: the verdict never comes from it.
_WATCHED_MODULES = (
    "builtins", "math", "random", "json", "os", "time",
    "numpy", "numpy.testing", "torch", "torch.nn", "torch.nn.functional", "torch.testing", "torch.optim",
    "pytest", "_pytest.python_api", "_pytest.raises", "_pytest.outcomes", "grader.pytest_plugin",
)  # fmt: skip
_WATCHED_CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"), ("numpy", "ndarray"))
_MISSING = object()


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    """The first line a learner should read: our own assertion message, or the error and its text."""
    text = str(excinfo.value).strip()
    first = text.splitlines()[0] if text else ""
    if excinfo.errisinstance(NotImplementedError):
        return f"not implemented: {first}" if first else "not implemented"
    if excinfo.errisinstance(AssertionError):
        return first or "assertion failed"
    return f"{excinfo.typename}: {first}" if first else excinfo.typename


class Fingerprint:
    """Identity of every callable of the watched modules and classes, and of the spec functions' code."""

    def __init__(self) -> None:
        # (label, namespace or function, key, object): holding the object keeps its identity unique
        self.entries: list[tuple[str, object, str, object]] = []
        for name in _WATCHED_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            self._add_namespace(name, vars(module))
        for module_name, class_name in _WATCHED_CLASSES:
            try:
                cls = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError):
                continue
            self._add_namespace(f"{module_name}.{class_name}", cls.__dict__)  # a live read-only view

    def _add_namespace(self, label: str, namespace) -> None:
        self.entries += [(label, namespace, key, value) for key, value in list(namespace.items()) if callable(value)]

    def add_function(self, label: str, function) -> None:
        code = getattr(function, "__code__", None)
        if code is not None:
            self.entries.append((label, function, "__code__", code))

    def tampered(self) -> str | None:
        """The first watched name whose object was replaced or deleted, if any."""
        for label, holder, key, original in self.entries:
            value = getattr(holder, key, _MISSING) if key == "__code__" else holder.get(key, _MISSING)
            if value is not original:
                return f"{label}.{key}"
        return None


class ResultWriter:
    def __init__(self, fd: int, nonce: str) -> None:
        self._fd = fd
        self._nonce = nonce
        self._fingerprint = Fingerprint()
        self._tampered: str | None = None

    def write(self, **record: object) -> None:
        _write(self._fd, (_dumps({"nonce": self._nonce, **record}) + "\n").encode())

    def check(self) -> str | None:
        """The first replaced attribute, once and for all (a tampered process stays tampered)."""
        if self._tampered is None:
            self._tampered = self._fingerprint.tampered()
        return self._tampered

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            function = getattr(item, "obj", None)
            if function is not None:
                self._fingerprint.add_function(item.nodeid, function)

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
            tampered = self.check()
            if tampered:
                outcome, message = "error", f"tampering: the submission replaced {tampered}"
            self.write(nodeid=pyfuncitem.nodeid, when="call", outcome=outcome, message=message, duration=round(_clock() - start, 4))
            raise
        tampered = self.check()
        if tampered:
            self.write(nodeid=pyfuncitem.nodeid, when="call", outcome="error", message=f"tampering: the submission replaced {tampered}", duration=0.0)
            pytest.fail(f"tampering: the submission replaced {tampered}", pytrace=False)
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
