"""Helpers shared by the lesson specs (not by the learner's code): clearer failures and plain oracles."""
from __future__ import annotations

from collections.abc import Iterator
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
