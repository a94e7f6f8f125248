"""Take a learner's implementation files out of a submission: a directory, a ``.zip`` or a git repository.

Only the modules that lesson manifests name (``exercises/lNN/<module>``) are read; everything else in a
submission (specs, conftest.py, pytest.ini, manifests, data) is ignored, because the grader takes all of that
from the pristine course. Nothing is extracted to disk. Problems become per-submission messages, never
exceptions: a file that cannot be taken is graded as the untouched stub.
"""
from __future__ import annotations

import os
import stat
import subprocess
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .lessons import Lesson

MAX_MODULE_BYTES = 1 << 20  # a lesson module larger than 1 MiB is not a lesson module
MAX_ARCHIVE_MEMBERS = 100_000


@dataclass
class Submission:
    learner: str
    source: Path
    modules: dict[tuple[str, str], bytes] = field(default_factory=dict)  # ("l03", "attention.py") -> source
    errors: list[str] = field(default_factory=list)


def learner_name(path: Path) -> str:
    name = path.name[: -len(".zip")] if path.name.lower().endswith(".zip") else path.name
    return name.removesuffix(".git") or "submission"


def _wanted(lessons: Iterable[Lesson]) -> list[tuple[str, str]]:
    return [(lesson.package, module) for lesson in lessons for module in lesson.modules]


def _check_source(submission: Submission, key: tuple[str, str], data: bytes) -> None:
    """Keep a module if it is UTF-8 text; note a syntax error (the run will show it as a collection error)."""
    label = f"{key[0]}/{key[1]}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        submission.errors.append(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start}); graded as not started")
        return
    try:
        compile(text, label, "exec", dont_inherit=True)
    except SyntaxError as exc:
        submission.errors.append(f"{label}: SyntaxError at line {exc.lineno}: {exc.msg}")
    except ValueError as exc:  # e.g. NUL bytes
        submission.errors.append(f"{label}: cannot be compiled ({exc}); graded as not started")
        return
    submission.modules[key] = data


def _too_big(submission: Submission, key: tuple[str, str], size: int) -> bool:
    if size > MAX_MODULE_BYTES:
        submission.errors.append(f"{key[0]}/{key[1]}: {size} bytes is over the {MAX_MODULE_BYTES} byte limit; graded as not started")
        return True
    return False


def _course_prefix(names: Iterable[str]) -> str | None:
    """Where the course sits inside a submission: at its root ("") or in one top folder ("alice/")."""
    prefixes = set()
    for name in names:
        parts = PurePosixPath(name).parts
        if "exercises" in parts[:2]:
            prefixes.add("/".join(parts[: parts.index("exercises")]))
    if "" in prefixes:
        return ""
    return f"{sorted(prefixes)[0]}/" if prefixes else None


def _from_directory(submission: Submission, root: Path, wanted: list[tuple[str, str]]) -> None:
    base = root if (root / "exercises").is_dir() else next((d for d in sorted(root.iterdir()) if (d / "exercises").is_dir() and not d.is_symlink()), root)
    for key in wanted:
        path = base / "exercises" / key[0] / key[1]
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode) or any(p.is_symlink() for p in (base / "exercises", base / "exercises" / key[0])):
            submission.errors.append(f"{key[0]}/{key[1]}: a symbolic link, not a file; ignored")
            continue
        if not stat.S_ISREG(info.st_mode) or _too_big(submission, key, info.st_size):
            continue
        with open(path, "rb") as handle:
            _check_source(submission, key, handle.read(MAX_MODULE_BYTES + 1))


def _from_zip(submission: Submission, path: Path, wanted: list[tuple[str, str]]) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        submission.errors.append(f"not a readable zip archive: {exc}")
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            submission.errors.append(f"the archive has {len(infos)} members, over the {MAX_ARCHIVE_MEMBERS} limit")
            return
        for info in infos:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                submission.errors.append(f"archive member {info.filename!r} points outside the archive; ignored")
        prefix = _course_prefix(i.filename for i in infos)
        if prefix is None:
            return
        members = {i.filename: i for i in infos}
        for key in wanted:
            info = members.get(f"{prefix}exercises/{key[0]}/{key[1]}")
            if info is None:
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                submission.errors.append(f"{key[0]}/{key[1]}: a symbolic link in the archive; ignored")
                continue
            if _too_big(submission, key, info.file_size):
                continue
            try:
                with archive.open(info) as handle:
                    data = handle.read(MAX_MODULE_BYTES + 1)  # the header's size may lie: read at most the limit
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                submission.errors.append(f"{key[0]}/{key[1]}: cannot be read from the archive ({exc})")
                continue
            if not _too_big(submission, key, len(data)):
                _check_source(submission, key, data)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": os.devnull}
    return subprocess.run(
        ["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false", f"--git-dir={repo}", *args],
        capture_output=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _from_git(submission: Submission, git_dir: Path, wanted: list[tuple[str, str]]) -> None:
    """The files of the repository's HEAD commit (what the learner committed, not their working tree)."""
    listing = _git(git_dir, "ls-tree", "-r", "-l", "-z", "HEAD")
    if listing.returncode != 0:
        submission.errors.append(f"not a usable git repository (no commit at HEAD?): {listing.stderr.decode(errors='replace').strip()}")
        return
    entries = {}
    for record in listing.stdout.split(b"\0"):
        if b"\t" in record:
            meta, name = record.split(b"\t", 1)
            mode, _, obj, size = meta.split()
            entries[name.decode(errors="replace")] = (mode.decode(), obj.decode(), size.decode())
    prefix = _course_prefix(entries)
    if prefix is None:
        return
    for key in wanted:
        entry = entries.get(f"{prefix}exercises/{key[0]}/{key[1]}")
        if entry is None:
            continue
        mode, obj, size = entry
        if mode == "120000":
            submission.errors.append(f"{key[0]}/{key[1]}: a symbolic link in the repository; ignored")
            continue
        if mode not in ("100644", "100755") or _too_big(submission, key, int(size)):
            continue
        blob = _git(git_dir, "cat-file", "blob", obj)
        if blob.returncode == 0:
            _check_source(submission, key, blob.stdout)


def load_submission(path: Path, lessons: Iterable[Lesson]) -> Submission:
    """Read one submission; every problem becomes a message in ``submission.errors``."""
    path = Path(path)
    lessons = list(lessons)
    submission = Submission(learner_name(path), path.resolve())
    wanted = _wanted(lessons)
    try:
        if path.is_symlink():
            submission.errors.append("the submission itself is a symbolic link; ignored")
        elif path.is_dir() and (path / ".git").is_dir():
            _from_git(submission, path / ".git", wanted)
        elif path.is_dir() and (path / "HEAD").is_file() and (path / "objects").is_dir():
            _from_git(submission, path, wanted)  # a bare repository
        elif path.is_dir():
            _from_directory(submission, path, wanted)
        elif path.is_file() and zipfile.is_zipfile(path):
            _from_zip(submission, path, wanted)
        else:
            submission.errors.append("not a directory, a .zip archive or a git repository")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        submission.errors.append(f"cannot read the submission: {exc}")
    if not submission.modules and not submission.errors:
        submission.errors.append("no lesson modules found (expected files like exercises/l01/bpe.py)")
    return submission
