"""``llmfs doctor``: is this machine ready for the course? One line per check, for bug reports and workshops."""
from __future__ import annotations

import platform
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .lessons import COURSE_ROOT, ManifestError, load_lessons

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _requirements() -> list[tuple[str, bool]]:
    """(distribution, from the dev extra) for every dependency the course declares."""
    try:
        requires = metadata.requires("llm-from-scratch") or []
    except metadata.PackageNotFoundError:
        return []
    wanted = []
    for line in requires:
        marker = line.split(";", 1)[1] if ";" in line else ""
        if "python_version" in marker and sys.version_info >= (3, 11):
            continue  # e.g. tomli, only for Python 3.10
        wanted.append((_REQUIREMENT.match(line).group(1), "extra ==" in marker))
    return wanted


def _torch_checks() -> list[Check]:
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - a broken install must be reported, not raised
        return [Check("torch", False, f"cannot import: {exc}")]
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append(f"cuda ({torch.cuda.get_device_name(0)})")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    build = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU build"
    return [
        Check("torch", True, f"{torch.__version__} ({build})"),
        Check("torch threads", True, f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op"),
        Check("devices", True, ", ".join(devices)),
    ]


def run_checks(root: Path = COURSE_ROOT) -> list[Check]:
    checks = [
        Check("python", sys.version_info >= (3, 10), f"{platform.python_version()} at {sys.executable}" + ("" if sys.version_info >= (3, 10) else " (3.10 or newer needed)")),
        Check("platform", True, f"{platform.system()} {platform.machine()}"),
    ]
    checks += _torch_checks()
    for name, dev in _requirements():
        if name == "torch":  # checked above, with its build and devices
            continue
        try:
            checks.append(Check(name, True, metadata.version(name) + (" (dev extra)" if dev else "")))
        except metadata.PackageNotFoundError:
            fix = 'pip install -e ".[dev]"' if dev else 'pip install -e .'
            checks.append(Check(name, False, f"not installed: run {fix}"))
    try:
        lessons = load_lessons(root)
        checks.append(Check("lessons", bool(lessons), f"{len(lessons)} in {root / 'exercises'}"))
    except ManifestError as exc:
        checks.append(Check("lessons", False, str(exc)))
    data = root / "data" / "tinyshakespeare.txt"
    checks.append(Check("data", data.is_file(), str(data.parent) if data.is_file() else f"missing {data}"))
    role = "instructor copy (solutions/ present)" if (root / "solutions").is_dir() else "learner copy"
    checks.append(Check("course", True, f"{role} at {root}"))
    return checks
