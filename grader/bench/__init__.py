"""Benchmarks of the reference against independent implementations: ``llmfs bench TARGET``.

Each target is a module here with ``main(argv) -> int`` that measures everything it compares in one run and
prints a table. Figures are printed, never asserted: speed is measured, not tested in CI.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

from ..lessons import COURSE_ROOT


def targets() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__))


def run_benchmark(target: str, argv: list[str]) -> int:
    if target not in targets():
        print(f"unknown benchmark {target!r}; choose one of: {', '.join(targets()) or '(none yet)'}")
        return 2
    if str(COURSE_ROOT) not in sys.path:
        sys.path.insert(0, str(COURSE_ROOT))  # the benchmarks import the reference from solutions/
    return importlib.import_module(f"{__name__}.{target}").main(argv)
