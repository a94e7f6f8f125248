"""Helpers shared by the lesson specs (not by the learner's code): clearer failures and plain oracles."""
from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def raises_value_error(match: str, why: str) -> Iterator[None]:
    """``pytest.raises(ValueError, match=...)`` whose failure says what the check is for.

    A stub's NotImplementedError passes through untouched, so an unfinished function still reads as
    "not implemented", never as a wrong error.
    """
    try:
        with pytest.raises(ValueError, match=match):
            yield
    except NotImplementedError:
        raise
    except (pytest.fail.Exception, AssertionError, LookupError, RuntimeError, TypeError) as exc:
        raise AssertionError(f"{why}; got {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None


def naive_merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids``, left to right, by ``new_id``: the plain oracle for BPE specs."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def in_the_learners_process(function: Callable, *args: object) -> object:
    """``function(*args)`` where the learner's code runs; ``function`` must be defined in this module.

    Under pytest that is this process. When grading, the learner's code runs in a sandboxed process (see
    grader/sandbox/remote.py): a measurement of it, such as the memory it allocates, is taken there and only the plain
    result comes back. That process could misreport it, so use this only where no oracle outside it exists.
    """
    remote = sys.modules.get("grader.sandbox.remote")
    link = remote.current_link() if remote is not None else None
    if link is None:
        return function(*args)
    return link.request("helper", function.__name__, list(args))


def stream_count_and_peak(encode_iterable: Callable, chunks: list[str], repeats: int) -> tuple[int, int]:
    """How many ids ``encode_iterable`` yields for ``chunks`` repeated, and the peak of new memory (bytes)."""

    def stream() -> Iterable[str]:
        for _ in range(repeats):
            yield from chunks

    tracemalloc.start()
    try:
        count = sum(1 for _ in encode_iterable(stream()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak
