"""Take a learner's implementation files out of a submission: a directory, a ``.zip`` or a git repository.

Only the modules that lesson manifests name (``exercises/lNN/<module>``) are read; everything else in a
submission (specs, conftest.py, pytest.ini, manifests, data) is ignored, because the grader takes all of that
from the pristine course. Nothing is extracted to disk, and nothing of the submission is executed or interpreted
with the grader's privileges: a git repository's config, hooks and attributes are never read (see
``_ObjectReader``). Problems become per-submission messages, never exceptions: a file that cannot be taken is
graded as the untouched stub.
"""
from __future__ import annotations

import os
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..lessons import Lesson

MAX_MODULE_BYTES = 1 << 20  # a lesson module larger than 1 MiB is not a lesson module
MAX_ARCHIVE_MEMBERS = 100_000
MAX_OBJECT_BYTES = 256 << 20  # a git submission's object files, all together
MAX_OBJECT_FILES = 100_000


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


_HEX = frozenset("0123456789abcdef")
_MAX_REF_BYTES = 4096


def _read_plain_file(path: Path, limit: int) -> bytes | None:
    """A regular file's first ``limit`` bytes, never through a symbolic link; None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read(limit)


def _is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= _HEX


def _resolve_head(git_dir: Path) -> str:
    """The commit id at HEAD, read as plain text (HEAD, then a loose ref or packed-refs): git is not asked."""
    head = (_read_plain_file(git_dir / "HEAD", _MAX_REF_BYTES) or b"").decode("ascii", "replace").strip()
    if _is_object_id(head):
        return head
    if not head.startswith("ref: "):
        raise ValueError("HEAD is neither a commit id nor a reference")
    ref = head[len("ref: ") :].strip()
    parts = ref.split("/")
    if not ref.startswith("refs/") or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise ValueError(f"HEAD names an unusable reference {ref!r}")
    loose = (_read_plain_file(git_dir / ref, _MAX_REF_BYTES) or b"").decode("ascii", "replace").strip()
    if _is_object_id(loose):
        return loose
    for line in (_read_plain_file(git_dir / "packed-refs", MAX_MODULE_BYTES) or b"").decode("ascii", "replace").splitlines():
        fields = line.split(" ")
        if len(fields) == 2 and fields[1] == ref and _is_object_id(fields[0]):
            return fields[0]
    raise ValueError(f"HEAD points at {ref}, which has no commit")


def _reachable_temp() -> str:
    """A temporary folder that ``nobody`` can pass through (``TMPDIR`` may lie under a private home)."""
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        path = Path(candidate).resolve()
        if all(os.stat(p).st_mode & 0o001 for p in (path, *path.parents)):
            return str(path)
    return tempfile.gettempdir()


def _unprivileged() -> dict:
    """``subprocess`` arguments that run a child as ``nobody`` when the grader is root (else as ourselves)."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _copy_objects(source: Path, dest: Path) -> Path:
    """Copy a repository's object files (loose objects and packs) as plain bytes; returns ``dest``."""
    if source.is_symlink() or not source.is_dir():
        raise ValueError("no object folder (objects/) in the repository")
    total = count = 0
    for folder, dirs, files in os.walk(source):  # does not follow links to folders
        relative = Path(folder).relative_to(source)
        dirs[:] = [d for d in dirs if not (relative == Path(".") and d == "info")]
        (dest / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            data = _read_plain_file(Path(folder) / name, MAX_OBJECT_BYTES + 1)
            if data is None:
                continue  # a link or something other than a regular file
            total, count = total + len(data), count + 1
            if total > MAX_OBJECT_BYTES or count > MAX_OBJECT_FILES:
                raise ValueError(f"the repository's objects exceed {MAX_OBJECT_BYTES >> 20} MiB or {MAX_OBJECT_FILES} files")
            (dest / relative / name).write_bytes(data)
    return dest


class _ObjectReader:
    """Reads a submission's git objects through a fresh, empty repository of our own.

    The submission's object files are copied (bytes only: no link is followed, ``objects/info`` is left out)
    into a scratch folder that a fresh repository names in its ``objects/info/alternates``, so git sees the
    submission's commits, trees and blobs and nothing else of it: not its config (remotes, promisors,
    ``core.sshCommand``, ``core.fsmonitor``), hooks, attributes or info files. There is no remote to fetch a
    missing object from, and git runs as ``nobody`` (when the grader is root) with no system or global config.
    """

    def __init__(self, git_dir: Path, scratch: Path) -> None:
        self.repo = scratch / "reader.git"
        for folder in ("objects/info", "refs"):
            (self.repo / folder).mkdir(parents=True)
        (self.repo / "HEAD").write_text("ref: refs/heads/main\n")
        (self.repo / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = true\n")
        copied = _copy_objects(git_dir / "objects", scratch / "objects")
        (self.repo / "objects" / "info" / "alternates").write_text(f"{copied}\n")
        for folder, dirs, files in os.walk(scratch):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_ATTR_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_PROTOCOL_FROM_USER": "0", "GIT_ALLOW_PROTOCOL": "", "LC_ALL": "C",
        }  # fmt: skip

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", f"--git-dir={self.repo}", "-c", "core.hooksPath=/nonexistent", "-c", "protocol.allow=never", *args],
            capture_output=True, stdin=subprocess.DEVNULL, env=self.env, cwd=self.repo, timeout=60, **_unprivileged(),
        )  # fmt: skip


def _from_git(submission: Submission, git_dir: Path, wanted: list[tuple[str, str]]) -> None:
    """The files of the repository's HEAD commit (what the learner committed, not their working tree)."""
    try:
        commit = _resolve_head(git_dir)
    except ValueError as exc:
        submission.errors.append(f"not a usable git repository: {exc}")
        return
    with tempfile.TemporaryDirectory(prefix="llmfs-intake-", dir=_reachable_temp()) as scratch:
        try:
            reader = _ObjectReader(git_dir, Path(scratch))
        except ValueError as exc:
            submission.errors.append(f"not a usable git repository: {exc}")
            return
        listing = reader.git("ls-tree", "-r", "-l", "-z", commit)
        if listing.returncode != 0:
            submission.errors.append(f"not a usable git repository (commit {commit[:12]} at HEAD is missing or broken): {listing.stderr.decode(errors='replace').strip()[:300]}")
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
            if mode not in ("100644", "100755") or not size.isdigit() or _too_big(submission, key, int(size)):
                if not size.isdigit():  # "-": the blob is not in the repository (a partial clone?)
                    submission.errors.append(f"{key[0]}/{key[1]}: its content is missing from the repository; graded as not started")
                continue
            blob = reader.git("cat-file", "blob", obj)
            if blob.returncode == 0:
                _check_source(submission, key, blob.stdout)
            else:
                submission.errors.append(f"{key[0]}/{key[1]}: cannot be read from the repository; graded as not started")


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
