"""A Gradescope autograder: ``llmfs gradescope OUT.zip [L01 ...]`` builds it, ``run_autograder`` runs it.

Gradescope's specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the zip holds
``setup.sh`` and ``run_autograder`` at its root; Gradescope unpacks it into ``/autograder/source``, runs
``setup.sh`` once as root while it builds the image, and for each submission puts the learner's files in
``/autograder/submission`` (and ``/autograder/submission_metadata.json`` beside it), runs
``/autograder/run_autograder`` as root in ``/autograder``, and reads ``/autograder/results/results.json``.

**What the package holds** (all of it unpacked into ``source/``):

- ``setup.sh``: installs Python, git and the course's dependencies into a virtual environment
  (:data:`VENV`), with torch pinned as ``pyproject.toml`` pins it and taken from PyTorch's CPU wheel index, so
  no CUDA package is ever installed; then ``chmod 700 source`` (Gradescope's advice: the source folder out of
  reach of other users);
- ``run_autograder``: starts :func:`main` (``run``) with that Python, and writes a results file of its own if
  Python never got to (see *Fails closed*);
- the course as the grader needs it: ``grader/`` (this grader, without its benchmarks), ``exercises/`` (the
  specs, manifests, stubs and helpers: what learners have anyway), ``data/``, and ``solutions/`` holding the
  reference of **only the lessons the graded ones build on** (a graded lesson's own only where another graded
  lesson builds on it; no mutants, no course tests); ``gradescope.json``, the lessons graded and the time
  settings; ``requirements.txt`` and ``constraints.txt`` for ``setup.sh``.

**Where the reference lives, and why that is safe.** Isolated grading runs a lesson's specs over the reference
of the lessons it builds on (a bug in L03 must not cost points in L06), and the trusted side (the pytest
process that decides the verdict) builds that overlay from ``solutions/`` of the course it grades against. So
the reference those lessons need must be in the package, and the package is the course root,
``/autograder/source``. It is out of the learner's reach for the same reasons as in ``llmfs grade``: the
learner's code runs only in the sandboxed child (:mod:`grader.sandbox.confine`), which as root gets a uid of
its own and a private view of the filesystem in which every top-level folder but the system ones is an empty
tmpfs (``/autograder`` included) and the course root (``grade._hidden_folders``: the course and this grader's
checkout, here both ``source/``) and the folder holding the submission are covered again; only the Python
installation (:data:`VENV`, outside ``source/``), the child's own tree (the learner's modules and, in
isolated mode, the reference of the graded lesson's dependencies, which its code needs to run) and a copy of
``data/`` are bound back. Nothing of ``solutions/`` lies anywhere else in the package. Before grading,
``run_autograder`` checks as root that such a view can be made here (:func:`check_confinement`); where it
cannot (a container without ``CAP_SYS_ADMIN``), nothing of the learner's runs and the results say
"autograder error": hostile code is never run unconfined.

**Grading** is ``grade.grade`` on the one submission, the same intake, sandbox and verdict path as
``llmfs grade``; only the lessons named when the package was built are graded and count (the others are
treated as untouched, so they are never run). Gradescope gives a submission one overall time limit (10 minutes
by default, at most 40, set per assignment): the package's ``--time-limit`` should be that figure, and each
lesson run gets an equal share of it (less a margin), all runs in series on Gradescope's CPUs; there is no
reference timing. A submission is whatever Gradescope put in ``submission/``: a course checkout (``exercises/lNN/
<module>``, at its root or in one folder), a git repository, one ``.zip``, or just the module files themselves
(``attention.py``, ...; each module name belongs to one lesson), which are taken as bytes and laid out as
``exercises/lNN/``.

**Results**: one test per stage of each graded lesson, named "L03 · <stage title>", worth the stage's points
(the points of its passing specs), with the failing specs' messages and the stage's first hint as plain text
(``output_format`` "text": the messages come from the learner's code, so nothing in them is rendered), and
the total as the top-level score. The learner's name comes from ``submission_metadata.json`` when it is
there and readable.

**Fails closed.** ``run_autograder`` first writes a results file saying the autograder did not finish, and
replaces it (atomically) only with the real one; any error writes a visible "autograder error" test (score 0)
and the traceback in a hidden one; a watchdog does the same just before the time limit; and if Python cannot
start at all, the shell script writes such a file itself. Never nothing.

**Paths** default to Gradescope's and can be overridden for tests: ``LLMFS_AUTOGRADER_ROOT`` (default
``/autograder``), or one by one ``LLMFS_AUTOGRADER_SOURCE``, ``_SUBMISSION``, ``_RESULTS``, ``_METADATA``
(or the arguments of ``python -m grader.grading.gradescope run``); ``LLMFS_PYTHON``, the Python
``run_autograder`` uses.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..lessons import COURSE_ROOT, Lesson, get_lesson, load_lessons, tomllib

CONFIG = "gradescope.json"
VENV = "/opt/llmfs-venv"  # where setup.sh installs the course's dependencies: outside source/, kept in the child's view
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
DEFAULT_TIME_LIMIT = 600.0  # seconds: Gradescope's default overall timeout
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
GRADER = Path(__file__).resolve().parent.parent  # this grader's own package: the one that goes in the package
SPEC_MESSAGE_LIMIT = 1500  # characters of one failing spec's message in a stage's output
ERROR_NAME = "autograder error"


class AutograderError(RuntimeError):
    """Something on the autograder's side, not the learner's, stopped grading."""


class SandboxUnavailable(AutograderError):
    """Runs cannot be confined here: said to the learner too (nothing of theirs ran)."""


# Building the package ------------------------------------------------------------------------------------


def _dependencies(lessons: Iterable[Lesson], by_id: dict[str, Lesson]) -> list[Lesson]:
    from .grade import dependencies

    found = {dep.id: dep for lesson in lessons for dep in dependencies(lesson, by_id)}
    return sorted(found.values(), key=lambda item: item.id)


def _pyproject(root: Path) -> Path:
    """The course's ``pyproject.toml``, else this grader's (a course folder without one, like the toy course)."""
    return root / "pyproject.toml" if (root / "pyproject.toml").is_file() else GRADER.parent / "pyproject.toml"


def _requirements(root: Path) -> tuple[str, list[str]]:
    """torch's requirement (as ``pyproject.toml`` pins it) and every other dependency, the ``dev`` oracles included
    (the specs compare with tiktoken, transformers, trl, hypothesis)."""
    pyproject = _pyproject(root)
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    wanted = [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get("dev", [])]
    torch = [item for item in wanted if _name(item) == "torch"]
    if not torch:
        raise ValueError(f"{pyproject} does not name torch among its dependencies")
    return torch[0], [item for item in wanted if _name(item) != "torch"]


def _name(requirement: str) -> str:
    head = requirement.split(";", 1)[0].strip()
    for stop in "<>=!~[ (":
        head = head.split(stop, 1)[0]
    return head.strip().lower().replace("_", "-")


def _files(folder: Path, skip: Iterable[str] = ()) -> list[Path]:
    """The files under ``folder`` worth shipping: no caches, no hidden files, no notebooks built locally."""
    skipped = set(skip)
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_symlink() or not path.is_file() or parts[0] in skipped:
            continue
        if any(part.startswith(".") or part in ("__pycache__", "build", "dist") or part.endswith(".egg-info") for part in parts):
            continue
        if path.suffix in (".pyc", ".ipynb"):
            continue
        found.append(path)
    return found


SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image (llmfs {version}).
# The course's dependencies go into a virtual environment outside /autograder/source; torch is PyTorch's CPU build,
# from its CPU wheel index (never the CUDA packages), pinned as the course's pyproject.toml pins it.
set -euo pipefail
umask 022
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
source_dir=/autograder/source
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip git ca-certificates
python3 -m venv {venv}
{venv}/bin/pip install --upgrade pip
{venv}/bin/pip install --index-url {index} "{torch}"
{venv}/bin/pip install --constraint "$source_dir/constraints.txt" --requirement "$source_dir/requirements.txt"
chmod 755 "$source_dir/run_autograder"
# Gradescope's advice: the source folder (the grader, and the reference the graded lessons build on) out of reach
# of other users. The learner's code runs as a uid of its own in a view of the filesystem without /autograder.
chmod 700 "$source_dir"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this as root for every submission (llmfs {version}): it grades /autograder/submission with the
# same intake, sandbox and verdict path as `llmfs grade` and writes /autograder/results/results.json.
# Paths: LLMFS_AUTOGRADER_ROOT (default /autograder), or LLMFS_AUTOGRADER_SOURCE, _SUBMISSION, _RESULTS, _METADATA;
# LLMFS_PYTHON: the Python setup.sh installed the course's dependencies into.
set -u
root="${{LLMFS_AUTOGRADER_ROOT:-/autograder}}"
source_dir="${{LLMFS_AUTOGRADER_SOURCE:-$root/source}}"
results_dir="${{LLMFS_AUTOGRADER_RESULTS:-$root/results}}"
python="${{LLMFS_PYTHON:-{venv}/bin/python}}"
"$python" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from grader.grading.gradescope import main; sys.exit(main(sys.argv[2:]))' "$source_dir" run
status=$?
if [ ! -s "$results_dir/results.json" ]; then
  # Python never got as far as writing anything: fail closed all the same.
  mkdir -p "$results_dir"
  printf '%s' '{{"score": 0.0, "output": "The autograder failed before it could grade this submission. This is not a verdict on your work.", "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": [{{"name": "{error}", "score": 0.0, "max_score": 0.0, "status": "failed", "visibility": "visible", "output": "The autograder could not start. Your instructor can see why.", "output_format": "text"}}, {{"name": "{error}: details", "score": 0.0, "max_score": 0.0, "status": "failed", "visibility": "hidden", "output": "run_autograder: the grader (' > "$results_dir/results.json"
  printf '%s' "$python" | tr -d '"\\\\[:cntrl:]' >> "$results_dir/results.json"
  printf ') exited with status %d without writing results.json; see the stdout of this run.", "output_format": "text"}}]}}\\n' "$status" >> "$results_dir/results.json"
fi
exit "$status"
"""


@dataclass(frozen=True)
class Built:
    path: Path
    lessons: list[str]
    reference: list[str]  # the lessons whose reference is in the package (those the graded ones build on)
    files: int
    max_score: float


def build(
    out: Path,
    *,
    root: Path = COURSE_ROOT,
    lessons: list[str] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    spec_timeout: float = 60.0,
    visibility: str = "visible",
) -> Built:
    """Write the autograder zip ``out`` for the course at ``root``, grading ``lessons`` (default: all)."""
    root = Path(root).resolve()
    every = load_lessons(root)
    if not every:
        raise ValueError(f"{root} has no lessons (exercises/lNN/lesson.toml)")
    chosen = sorted({get_lesson(item, root).id for item in lessons} if lessons else {lesson.id for lesson in every})
    by_id = {lesson.id: lesson for lesson in every}
    graded = [by_id[item] for item in chosen]
    if not math.isfinite(time_limit) or time_limit < 60:
        raise ValueError(f"--time-limit {time_limit:g} is too short: give Gradescope's timeout in seconds (600 by default, at most 2400)")
    if not math.isfinite(spec_timeout) or spec_timeout <= 0:
        raise ValueError(f"--timeout {spec_timeout:g} must be a positive number of seconds")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    needed = _dependencies(graded, by_id)
    if not (root / "solutions").is_dir() and needed:
        raise ValueError(f"{root} has no solutions/: grading {', '.join(chosen)} needs the reference of {', '.join(d.id for d in needed)}")
    torch, others = _requirements(root)
    config = {
        "schema": 1, "course_version": __version__, "lessons": chosen, "reference": [d.id for d in needed],
        "time_limit": float(time_limit), "spec_timeout": float(spec_timeout), "visibility": visibility,
    }  # fmt: skip
    entries: dict[str, tuple[bytes, int]] = {
        "setup.sh": (SETUP_SH.format(version=__version__, venv=VENV, index=TORCH_CPU_INDEX, torch=torch).encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.format(version=__version__, venv=VENV, error=ERROR_NAME).encode(), 0o755),
        "requirements.txt": (("\n".join(others) + "\n").encode(), 0o644),
        "constraints.txt": (f"{torch}\n".encode(), 0o644),  # nothing may move torch off the CPU build
        CONFIG: ((json.dumps(config, indent=1) + "\n").encode(), 0o644),
    }
    entries["pyproject.toml"] = (_pyproject(root).read_bytes(), 0o644)
    sources = [(GRADER, "grader", ("bench",)), (root / "exercises", "exercises", ())]
    if (root / "data").is_dir():
        sources.append((root / "data", "data", ()))
    for folder, name, skip in sources:
        for path in _files(folder, skip):
            entries[f"{name}/{path.relative_to(folder).as_posix()}"] = (path.read_bytes(), 0o644)
    if needed:
        init = root / "solutions" / "__init__.py"
        entries["solutions/__init__.py"] = (init.read_bytes() if init.is_file() else b"", 0o644)
        for lesson in needed:
            for path in _files(root / "solutions" / lesson.package):
                entries[f"solutions/{lesson.package}/{path.relative_to(root / 'solutions' / lesson.package).as_posix()}"] = (path.read_bytes(), 0o644)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(entries):
                data, mode = entries[name]
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same course gives the same bytes
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        os.replace(staging, out)
    finally:
        staging.unlink(missing_ok=True)
    return Built(out, chosen, [d.id for d in needed], len(entries), sum(lesson.points for lesson in graded))


def gradescope_command(out: Path, *, root: Path, lessons: list[str] | None, time_limit: float, spec_timeout: float, console=None) -> int:
    """``llmfs gradescope OUT.zip [L01 ...]``: build, then say what to do with it."""
    from rich.console import Console

    console = console or Console(highlight=False)
    built = build(out, root=root, lessons=lessons, time_limit=time_limit, spec_timeout=spec_timeout)
    reference = ", ".join(built.reference) or "none"
    console.print(
        f"wrote {built.path} ({built.files} files): grades {', '.join(built.lessons)} ({built.max_score:g} points); "
        f"reference of the lessons they build on: {reference}.", markup=False, soft_wrap=True,
    )  # fmt: skip
    console.print(
        f"Upload it on the assignment's Configure Autograder page (Ubuntu 22.04). In its settings give the autograder "
        f"{time_limit / 60:g} minutes (the time limit it was built for), 2 CPUs and 3 GB of memory (about 1.5 GB a CPU: "
        "the default 768 MB is too little); then "
        "test it with the reference and a stub (Test Autograder).", markup=False, soft_wrap=True,
    )  # fmt: skip
    return 0


# Running it -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paths:
    source: Path
    submission: Path
    results: Path
    metadata: Path

    @classmethod
    def resolve(cls, given: dict[str, str | None] | None = None, env: dict[str, str] | None = None) -> Paths:
        """Gradescope's paths, unless arguments (first) or ``LLMFS_AUTOGRADER_*`` variables say otherwise."""
        given = given or {}
        env = os.environ if env is None else env

        def pick(name: str, default: Path) -> Path:
            return Path(given.get(name) or env.get(f"LLMFS_AUTOGRADER_{name.upper()}") or default)

        root = pick("root", Path("/autograder"))
        return cls(
            source=pick("source", root / "source"), submission=pick("submission", root / "submission"),
            results=pick("results", root / "results"), metadata=pick("metadata", root / "submission_metadata.json"),
        )  # fmt: skip


class ResultsFile:
    """``results.json``, written whole and atomically; once the final results are in, nothing replaces them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._final = False

    def write(self, results: dict, *, final: bool = True) -> bool:
        with self._lock:
            if self._final:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging = self.path.with_name(f".results.{os.getpid()}.{threading.get_ident()}.tmp")
            staging.write_text(json.dumps(results, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
            os.replace(staging, self.path)
            self._final = final
            return True


def error_results(visible: str, details: str, max_score: float = 0.0, took: float = 0.0) -> dict:
    """What a learner gets when the autograder fails: a visible "autograder error" test worth nothing, the
    details (a traceback) in a hidden one that only instructors see."""
    from .report import clean_text

    return {
        "score": 0.0, "execution_time": round(took),
        "output": f"The autograder failed: {visible} This is not a verdict on your work; your instructor can see the details.",
        "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
        "tests": [
            {"name": ERROR_NAME, "name_format": "text", "score": 0.0, "max_score": float(max_score), "status": "failed",
             "visibility": "visible", "output": visible, "output_format": "text"},
            {"name": f"{ERROR_NAME}: details", "name_format": "text", "score": 0.0, "max_score": 0.0, "status": "failed",
             "visibility": "hidden", "output": clean_text(details, 20000), "output_format": "text"},
        ],
    }  # fmt: skip


def read_config(source: Path) -> dict:
    """The package's ``gradescope.json``: the lessons graded and the time settings it was built with."""
    where = source / CONFIG
    try:
        config = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AutograderError(f"cannot read {where}: {exc}") from exc
    if not isinstance(config, dict):
        raise AutograderError(f"{where} holds no settings")
    lessons = config.get("lessons")
    if not (isinstance(lessons, list) and lessons and all(isinstance(item, str) for item in lessons)):
        raise AutograderError(f"{where}: 'lessons' must be a list of lesson ids, not {lessons!r:.80}")
    for name in ("time_limit", "spec_timeout"):
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise AutograderError(f"{where}: {name!r} must be a positive number of seconds, not {value!r:.80}")
    if config.get("visibility", "visible") not in VISIBILITIES:
        raise AutograderError(f"{where}: unknown visibility {config.get('visibility')!r:.40}")
    return config


def learner_from_metadata(path: Path) -> tuple[str | None, dict]:
    """The submitters' names (a group's, joined) and the submission's id and time from ``submission_metadata.json``;
    nothing when it is absent or not what Gradescope documents."""
    from .report import one_line

    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    if not isinstance(metadata, dict):
        return None, {}
    users = metadata.get("users") if isinstance(metadata.get("users"), list) else []
    names = [one_line(user["name"], 100) for user in users if isinstance(user, dict) and isinstance(user.get("name"), str)]
    extra = {}
    for key in ("id", "created_at"):
        value = metadata.get(key)
        if isinstance(value, str):
            extra[f"submission_{key}"] = one_line(value, 100)
        elif isinstance(value, int) and not isinstance(value, bool):
            extra[f"submission_{key}"] = value
    return ", ".join(name for name in names if name) or None, extra


_CONFINEMENT_PROBE = r"""
import os, sys
grader, course, user = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, grader)
from grader.sandbox import confine
needed = confine.forget_hidden_imports([grader, course])
confine.private_view(keep=needed, writable=[], hide=[grader, course], user=user, tmp_bytes=1 << 20)
confine.become(user)
if os.path.exists(os.path.join(course, "exercises")) or os.path.exists(os.path.join(grader, "grader")):
    raise SystemExit("the course is still in view of a confined run")
print("confined")
"""


def check_confinement(course_root: Path, user: int = 65534) -> None:
    """As root: prove that a run can be confined here, as :mod:`grader.sandbox.confine` confines each run (its own
    mount namespace with the course covered, then an unprivileged uid: ``nobody`` here); AutograderError if not."""
    command = [sys.executable, "-I", "-c", _CONFINEMENT_PROBE, str(GRADER.parent), str(Path(course_root).resolve()), str(user)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"the sandbox could not be checked ({exc}), so the learner's code was not run.") from exc
    if done.returncode != 0 or done.stdout.strip() != "confined":
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise SandboxUnavailable(
            f"the sandbox cannot confine a run in this container ({reason[:300]}), so the learner's code was not run. "
            "It needs root with CAP_SYS_ADMIN (mount namespaces) and seccomp."
        )


def available_cpus() -> int:
    """CPUs this container may use: the cgroup's CPU quota where there is one (Gradescope gives half a CPU by default)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    for path, parse in (
        ("/sys/fs/cgroup/cpu.max", lambda text: text.split()),
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", lambda text: [text.strip(), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text().strip()]),
    ):  # fmt: skip
        try:
            quota, period = parse(Path(path).read_text())
            if quota not in ("max", "-1"):
                count = min(count, max(1, math.ceil(int(quota) / int(period))))
            break
        except (OSError, ValueError):
            continue
    return max(1, count)


def plan_time(lessons: list[Lesson], time_limit: float, elapsed: float, jobs: int) -> tuple[float, float]:
    """(each run's time limit, the margin kept for everything else): the overall limit less a margin, shared
    equally by the runs, ``jobs`` at a time."""
    margin = max(20.0, 0.1 * time_limit)
    runs = sum(1 + (lesson.counts == "cumulative" and bool(lesson.depends)) for lesson in lessons)
    rounds = max(1, math.ceil(runs / max(1, jobs)))
    return max(10.0, (time_limit - margin - elapsed) / rounds), margin


def _locate(folder: Path, lessons: list[Lesson], scratch: Path) -> tuple[Path, list[str]]:
    """What to hand to intake: the submission folder itself (a checkout, a git repository), its one ``.zip``, or
    the module files it holds (top level, or one folder down) laid out as ``exercises/lNN/`` in ``scratch``."""
    from .intake import MAX_MODULE_BYTES, _read_plain_file

    if folder.is_symlink() or not folder.is_dir():
        return folder, [f"no submission folder at {folder}"]
    entries = sorted(folder.iterdir())
    folders = [path for path in entries if path.is_dir() and not path.is_symlink()]
    if (folder / ".git").exists() or any((path / "exercises").is_dir() and not (path / "exercises").is_symlink() for path in [folder, *folders]):
        return folder, []
    archives = [path for path in entries if path.suffix.lower() == ".zip" and path.is_file() and not path.is_symlink()]
    if len(archives) == 1:
        return archives[0], [f"graded the archive {archives[0].name}"]
    owners: dict[str, list[str]] = {}
    for lesson in lessons:
        for module in lesson.modules:
            owners.setdefault(module, []).append(lesson.package)
    staged, notes = scratch / "submission", []
    (staged / "exercises").mkdir(parents=True)
    candidates = [path for path in entries if not path.is_dir()] + [path for sub in folders for path in sorted(sub.iterdir()) if not path.is_dir()]
    taken: set[str] = set()
    for path in candidates:
        packages = owners.get(path.name, [])
        if len(packages) != 1 or path.name in taken:
            continue
        data = _read_plain_file(path, MAX_MODULE_BYTES + 1)
        if data is None:
            notes.append(f"{path.relative_to(folder)}: not a plain file; ignored")
            continue
        (staged / "exercises" / packages[0]).mkdir(exist_ok=True)
        (staged / "exercises" / packages[0] / path.name).write_bytes(data)
        taken.add(path.name)
        notes.append(f"took {path.relative_to(folder)} as exercises/{packages[0]}/{path.name}")
    if not taken:
        wanted = ", ".join(f"exercises/{lesson.package}/{module}" for lesson in lessons for module in lesson.modules)
        notes.append(f"no lesson files found: submit {wanted} (or those files alone)")
    return staged, notes


def _stage_output(lesson: Lesson, stage, specs: list[dict], errors: list[str]) -> str:
    from .report import clean_text

    failed = [spec for spec in specs if spec["status"] != "passed"]
    if not failed:
        return f"All {len(specs)} specs of this stage pass."
    parts = [f"{len(specs) - len(failed)} of {len(specs)} specs pass."]
    parts += [f"✗ {clean_text(spec['spec'], 200)}\n{clean_text(spec.get('message') or spec['status'], SPEC_MESSAGE_LIMIT)}" for spec in failed]
    parts += [clean_text(error, SPEC_MESSAGE_LIMIT) for error in errors]
    if stage.hints:
        parts.append(f"Hint: {stage.hints[0]}")
    return "\n\n".join(parts)


def gradescope_results(row: dict, lessons: list[Lesson], *, learner: str, notes: list[str], visibility: str = "visible", extra: dict | None = None) -> dict:
    """The results of one graded submission (a row of ``grade.grade``) as Gradescope's ``results.json``: one test
    per stage of ``lessons``, worth the stage's points."""
    from .report import clean_text, one_line

    rows = {item["lesson"]: item for item in row["lessons"]}
    tests, summary = [], []
    for lesson in lessons:
        lesson_row = rows[lesson.id]
        errors = list(lesson_row.get("errors", []))
        for number, stage in enumerate(lesson.stages, 1):
            specs = [spec for spec in lesson_row["specs"] if spec["stage"] == stage.name]
            score = round(math.fsum(float(spec["points"]) for spec in specs), 6)
            passed = all(spec["status"] == "passed" for spec in specs)
            tests.append({
                "name": f"{lesson.id} · {one_line(stage.title)}", "name_format": "text", "number": f"{int(lesson.id[1:])}.{number}",
                "score": score, "max_score": float(stage.points), "status": "passed" if passed else "failed",
                "visibility": visibility, "output": _stage_output(lesson, stage, specs, [] if passed else errors),
                "output_format": "text", "tags": [lesson.id, stage.name],
            })  # fmt: skip
            if not passed:
                errors = []  # a lesson's problems are told once, in its first stage that is not green
        summary.append(f"{lesson.id} {one_line(lesson.title)}: {lesson_row['passed']}/{lesson_row['total']} specs, {lesson_row['score']:g}/{lesson.points:g} points")
    score = round(math.fsum(test["score"] for test in tests), 6)
    total = sum(lesson.points for lesson in lessons)
    lines = [f"{learner}: {score:g} / {total:g} points" if learner else f"Score: {score:g} / {total:g} points", *summary]
    lines += [clean_text(item, SPEC_MESSAGE_LIMIT) for item in [*row.get("errors", []), *notes]]
    return {
        "score": score, "execution_time": round(float(row.get("duration", 0.0))),
        "output": "\n".join(lines), "output_format": "text", "test_output_format": "text", "test_name_format": "text",
        "visibility": visibility, "stdout_visibility": "hidden",
        "extra_data": {"learner": learner, "lessons": [lesson.id for lesson in lessons], "course_version": __version__,
                       "graded_at": row.get("graded_at", ""), **(extra or {})},
        "tests": tests,
    }  # fmt: skip


def run(paths: Paths) -> int:
    """Grade the one submission and write ``results.json``: 0 when graded, 1 when the results say "autograder error"."""
    started = time.monotonic()
    results = ResultsFile(paths.results / "results.json")
    max_score = 0.0

    def unfinished() -> None:  # what stays if this process is killed (out of time or memory) before it is done
        details = "run_autograder did not finish: it was killed, or ran out of time or memory; see the stdout of this run."
        results.write(error_results("it stopped before it finished grading.", details, max_score), final=False)

    try:
        unfinished()
        config = read_config(paths.source)
        from .grade import Course, Settings, default_sandbox, grade

        class Graded(Course):
            """The course, with every lesson but the graded ones taken as untouched: never run."""

            def untouched(self, submission, lesson):
                return lesson.id not in config["lessons"] or super().untouched(submission, lesson)

        course = Graded(paths.source)
        missing = [item for item in config["lessons"] if item not in course.by_id]
        if missing:
            raise AutograderError(f"the package grades {', '.join(missing)}, which the course in {paths.source} does not have")
        lessons = [course.by_id[item] for item in config["lessons"]]
        max_score = sum(lesson.points for lesson in lessons)
        unfinished()
        watchdog = _watchdog(results, float(config["time_limit"]), started, max_score)
        learner, extra = learner_from_metadata(paths.metadata)
        sandbox = default_sandbox()
        if os.geteuid() == 0:
            check_confinement(paths.source)
        jobs = available_cpus()
        run_timeout, _ = plan_time(lessons, float(config["time_limit"]), time.monotonic() - started, jobs)
        settings = Settings(
            spec_timeout=min(float(config["spec_timeout"]), run_timeout), run_timeout=run_timeout, budget_floor=run_timeout,
            jobs=jobs, sandbox=sandbox,
        )  # fmt: skip
        print(f"grading {', '.join(config['lessons'])} of {paths.submission} for {learner or 'an unnamed learner'}: "
              f"{jobs} at a time, {run_timeout:.0f} s a run, as {'root (confined runs)' if os.geteuid() == 0 else 'an ordinary user (NOT confined)'}", flush=True)  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="llmfs-gradescope-") as scratch:
            os.chmod(scratch, 0o700)
            submission, notes = _locate(paths.submission, course.lessons, Path(scratch))
            for note in notes:
                print(note, flush=True)
            (row,) = grade([submission], course=course, settings=settings, on_progress=lambda text: print(f"graded {text}", flush=True))
        if os.geteuid() != 0:
            notes.append("graded as an ordinary user: the learner's code was not confined (Gradescope runs this as root)")
        report = gradescope_results(row, lessons, learner=learner or "", notes=notes, visibility=config.get("visibility", "visible"), extra=extra)
        report["execution_time"] = round(time.monotonic() - started)
        results.write(report)
        watchdog.cancel()
        print(report["output"], flush=True)
        return 0
    except BaseException as exc:  # noqa: BLE001 - whatever happens, the learner gets a results file
        details = traceback.format_exc()
        print(details, file=sys.stderr, flush=True)
        visible = str(exc) if isinstance(exc, SandboxUnavailable) else f"an internal error ({type(exc).__name__})."
        results.write(error_results(visible, details, max_score, time.monotonic() - started))
        if isinstance(exc, KeyboardInterrupt):
            raise
        return 1


def _watchdog(results: ResultsFile, time_limit: float, started: float, max_score: float) -> threading.Timer:
    """Just before Gradescope's own limit, writes "autograder error: out of time" and ends this process: whatever
    still runs then is lost anyway, and Gradescope would otherwise record no results at all."""

    def fire() -> None:
        took = time.monotonic() - started
        message = f"it ran out of time ({took:.0f} s of the {time_limit:.0f} s it was built for)."
        if results.write(error_results(message, f"watchdog: grading was still running after {took:.0f} s; raise the assignment's timeout and rebuild with a larger --time-limit", max_score, took)):
            print(f"out of time after {took:.0f} s", file=sys.stderr, flush=True)
            os._exit(1)

    remaining = max(1.0, time_limit - max(10.0, 0.05 * time_limit) - (time.monotonic() - started))
    timer = threading.Timer(remaining, fire)
    timer.daemon = True
    timer.start()
    return timer


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.grading.gradescope run [--root R] [--source S] [--submission D] [--results D] [--metadata F]``."""
    parser = argparse.ArgumentParser(prog="python -m grader.grading.gradescope", description="Run the Gradescope autograder on one submission.")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="grade the submission and write results.json (what run_autograder does)")
    for name in ("root", "source", "submission", "results", "metadata"):
        run_parser.add_argument(f"--{name}", default=None, help=f"default: $LLMFS_AUTOGRADER_{name.upper()} or Gradescope's")
    args = parser.parse_args(argv)
    return run(Paths.resolve({name: getattr(args, name) for name in ("root", "source", "submission", "results", "metadata")}))


if __name__ == "__main__":
    sys.exit(main())
