"""Confinement of one sandboxed spec run: what the learner's code can reach while it runs, and that nothing of it outlives the run.

Threat model: the code under test is hostile. It may read whatever its user may read, write wherever its user
may write, fork, ``setsid()`` and double-fork, signal every process its user may signal, exhaust memory or
processes, and look for the reference (the course checkout, other runs' trees, other submissions). It never
gains privileges: its process sets ``no_new_privs`` before dropping to its uid, so no set-uid program lifts it.

As root (how ``llmfs grade`` is meant to run) every run gets:

- **its own uid** (:data:`RUN_USERS`, 61000-61063, no passwd entry needed), leased to one run at a time, also
  across graders on the same host (a lock per uid in ``/run/llmfs-uids``). A uid is handed out and taken back
  only when no process of it is alive (they are killed first); one whose processes cannot be killed is retired.
  Its own uid is what keeps a run from signalling, tracing or reading (``/proc/PID/root``, ``cwd``, ``fd``,
  ``environ``) another run's processes, and from reading its files.
- **its own mount, IPC and network namespaces** (:func:`private_view`): fresh size-limited tmpfs on /tmp,
  /var/tmp and /dev/shm; empty tmpfs over everything at the root but the system's folders (/usr, /etc, /bin,
  /lib*, /sbin, /dev, /proc, /sys), so that /home, /root, /srv, /opt, /var, /work... are out of view wherever a
  checkout of the course lies, and over the folders named to it (the course checkouts with their ``solutions/``,
  the submissions, the grader's temporary folder that holds every run's files); just the Python installation,
  its tree and its scratch are bound back where they were; every other mount is read-only. Its
  scratch and its private temporary folders are the only places it can write, and it has no network (not even
  another run's localhost or abstract sockets; its channel to the trusted side is an inherited socket pair): nothing
  it writes or says reaches another run, and nothing is left behind.
- **a memory and a task limit for the run as a whole** (:class:`RunCgroup`): cgroup v2 ``memory.max`` and
  ``pids.max`` where the grader's own cgroup hands those controllers down, else the cgroup v1 memory and pids
  controllers where they are mounted (hybrid hosts), else only the zygote's per-process rlimits: address space
  per process, and ``RLIMIT_NPROC``, which counts a uid's processes and so is per run too.
- **no links**: ``symlink`` and ``link`` fail with EPERM (a seccomp filter, :func:`deny_links`, on x86_64 and
  aarch64), so no link planted in a folder it shares with the spec's process (``tmp_path``, where that process
  writes as root) can send a write elsewhere.
- **every process killed at its end** (:func:`kill_run`): ``cgroup.kill`` where cgroup v2 is writable; then by
  uid, until none is alive; and the zygote, a child subreaper, kills and reaps every descendant that is left.

Where a privileged step fails as root (no ``CAP_SYS_ADMIN``, as in a default Docker container), the run fails
with the reason in its log rather than run unconfined. As an ordinary user none of it is possible, and the
learner's code runs as the grader's user: it sees the same /tmp and everything that user can read (the course
checkout and its solutions included), and it can signal the grader's processes. What still holds: the per-process
rlimits, a run cgroup where the user's own cgroup is delegated to it, and every descendant of the run killed at
its end; a process started on its behalf by some other program (a daemon) may outlive it, and it has the
network. Grade hostile code as root.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import itertools
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

RUN_UIDS = range(61000, 61064)
USER_LOCKS = Path("/run/llmfs-uids")  # root's alone: one lock file per uid leased, by whichever grader holds it
TEMPORARY_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")
SYSTEM_FOLDERS = frozenset({"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "usr"})  # left in view

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT = 1, 2, 4, 8, 32
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_PR_SET_CHILD_SUBREAPER, _PR_SET_NO_NEW_PRIVS = 36, 38


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


# Processes: in the grader and in the zygote -------------------------------------------------------------------


def _processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, real uid) of every live process; zombies are dead and left out."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue  # it ended meanwhile
        if fields["State"].split()[0] not in ("Z", "X"):
            yield int(name), int(fields["PPid"]), int(fields["Uid"].split()[0])


# Runs as root: kill(-1) from a process of ``uid`` reaches exactly the processes of that uid (and not itself).
_KILL_EVERY_PROCESS_OF = (
    "import os, signal, sys; uid = int(sys.argv[1]); os.setgroups([]); os.setresgid(uid, uid, uid); "
    "os.setresuid(uid, uid, uid); os.kill(-1, signal.SIGKILL)"
)


def kill_user(uid: int, timeout: float = 10.0) -> bool:
    """Kill every process of ``uid`` (a helper that becomes ``uid`` and calls kill(-1, SIGKILL), again until none
    is left, since a fork can race a kill); True once none is alive."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while any(owner == uid for _, _, owner in _processes()):
        if time.monotonic() > deadline:
            return False
        command = [sys.executable, "-I", "-S", "-c", _KILL_EVERY_PROCESS_OF, str(uid)]
        subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    return True


class UserPool:
    """Unprivileged uids for sandboxed runs, one per concurrent run, also across graders on the same host.

    A uid is leased under an exclusive lock on its file in :data:`USER_LOCKS` (released by the kernel if the
    grader dies), handed out only when none of its processes is alive (left by a grader that died, say) and
    taken back only once that is true again; a uid whose processes cannot be killed is retired.
    """

    def __init__(self, uids: Iterable[int]) -> None:
        self._free = list(uids)
        self._locks: dict[int, int] = {}  # uid -> the open lock file that holds it
        self._changed = threading.Condition()

    @contextmanager
    def lease(self) -> Iterator[int]:
        uid = self._take()
        try:
            yield uid
        finally:
            self._release(uid, usable=kill_user(uid))  # retired if something of it survived

    def _take(self) -> int:
        USER_LOCKS.mkdir(mode=0o700, exist_ok=True)
        while True:
            with self._changed:
                uid = self._lock_one()
            if kill_user(uid):
                return uid
            self._release(uid, usable=False)

    def _lock_one(self) -> int:
        """A free uid that no other grader holds, waiting for one when this grader's runs hold them all."""
        while True:
            for uid in list(self._free):
                lock = os.open(USER_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(lock)
                    continue
                self._free.remove(uid)
                self._locks[uid] = lock
                return uid
            if not self._locks:
                raise RuntimeError(f"no sandbox uid is free: other graders hold them, or processes of the rest survived killing ({USER_LOCKS})")
            self._changed.wait(timeout=1.0)

    def _release(self, uid: int, usable: bool) -> None:
        with self._changed:
            os.close(self._locks.pop(uid))
            if usable:
                self._free.append(uid)
            self._changed.notify()


RUN_USERS = UserPool(RUN_UIDS)


def become_subreaper() -> None:
    """Orphans below this process (a ``setsid()``'ed, double-forked grandchild) become its children, not init's."""
    _check(_libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def kill_descendants(timeout: float = 10.0) -> None:
    """Kill and reap every process below this subreaper. Only its own unreaped children are signalled (so no pid
    can have been reused); the orphans of each come back to it and are killed in the next round."""
    me = os.getpid()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        for pid, parent, _ in _processes():
            if parent == me:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.002)


# cgroups: created by the zygote, joined by the run's child ----------------------------------------------------


def _unescape(field: str) -> str:
    """A path as /proc/self/mountinfo writes it (a space is \\040)."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


@functools.cache
def _own_cgroups() -> tuple[tuple[Path, frozenset[str]], ...]:
    """This process's cgroup folders with what a child cgroup there adds: "kill" (cgroup v2), "memory", "pids".

    cgroup v2 hands a child only the controllers in its parent's ``cgroup.subtree_control``; a v1 hierarchy
    offers the controller it is mounted for.
    """
    mounts: dict[str, tuple[str, str]] = {}  # "" (v2) or a v1 controller -> (mount point, root of the mount)
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        head, _, tail = line.partition(" - ")
        fields, (fstype, _, options) = head.split(), tail.split()[:3]
        if fstype == "cgroup2":
            mounts[""] = (_unescape(fields[4]), _unescape(fields[3]))
        elif fstype == "cgroup":
            for controller in {"memory", "pids"} & set(options.split(",")):
                mounts[controller] = (_unescape(fields[4]), _unescape(fields[3]))
    offers: dict[Path, set[str]] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for key in controllers.split(",") if controllers else [""]:
            if key not in mounts or not (path + "/").startswith(mounts[key][1].rstrip("/") + "/"):
                continue
            mount, root = mounts[key]
            folder = Path(mount) / os.path.relpath(path, root)
            if key:
                offers.setdefault(folder, set()).add(key)
            else:
                try:
                    handed_down = set((folder / "cgroup.subtree_control").read_text().split())
                except OSError:
                    continue
                offers.setdefault(folder, set()).update({"kill"} | ({"memory", "pids"} & handed_down))
    return tuple(sorted(((folder, frozenset(found)) for folder, found in offers.items()), key=lambda item: "kill" not in item[1]))


_LIMIT_FILES = {  # controller -> (the limit in cgroup v2, in v1), then swap files set alike where they exist
    "memory": (("memory.max", "memory.limit_in_bytes"), ("memory.swap.max", "memory.memsw.limit_in_bytes")),
    "pids": (("pids.max",), ()),
}
_run_numbers = itertools.count()


class RunCgroup:
    """The cgroups of one run, one in each hierarchy that adds something: the run's memory and task limits as a
    whole, and (cgroup v2) ``cgroup.kill``. ``enforces`` says what this host gave; it is empty where the grader
    may not create cgroups (an ordinary user without delegation)."""

    def __init__(self, memory_bytes: int, processes: int) -> None:
        self.folders: list[Path] = []
        self.enforces: set[str] = set()
        self._killer: Path | None = None
        name = f"llmfs-run-{os.getpid()}-{next(_run_numbers)}"
        limits = {"memory": memory_bytes, "pids": processes}
        for parent, offers in _own_cgroups():
            if offers <= self.enforces:
                continue
            folder = parent / name
            try:
                folder.mkdir()
            except OSError:
                continue
            self.folders.append(folder)
            if "kill" in offers and (folder / "cgroup.kill").exists():
                self._killer = folder / "cgroup.kill"
                self.enforces.add("kill")
            for controller in sorted(offers & limits.keys() - self.enforces):
                self._limit(folder, controller, limits[controller])

    def _limit(self, folder: Path, controller: str, value: int) -> None:
        limits, swaps = _LIMIT_FILES[controller]
        for name in (*limits, *swaps):
            if (folder / name).exists():
                (folder / name).write_text(f"{0 if name == 'memory.swap.max' else value}\n")
                if name in limits:
                    self.enforces.add(controller)

    def join(self) -> None:
        """Move the calling process (the run's child, before any learner code) into the run's cgroups."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(f"{os.getpid()}\n")

    def kill(self) -> None:
        if self._killer is not None:
            self._killer.write_text("1\n")

    def remove(self) -> None:
        """Remove the (by now empty) cgroups; one that stays busy is left behind."""
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def kill_run(cgroup: RunCgroup | None, user: int | None) -> None:
    """Kill every process a finished run left behind (its child already reaped), reap them and drop its cgroups."""
    if cgroup is not None:
        cgroup.kill()
    if user is not None:
        kill_user(user)
    kill_descendants()
    if cgroup is not None:
        cgroup.remove()


# The filesystem the run's child sees: set up in the child, as root, before any learner code ---------------------


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)), f"mount {source} on {target}")


def _blocker(path: str, user: int) -> str | None:
    """The outermost folder on the way to ``path`` that ``user`` may not pass through (e.g. /root, 0700)."""
    current = "/"
    for part in path.strip("/").split("/"):
        info = os.stat(current)
        passable = info.st_mode & 0o001 or (info.st_uid == user and info.st_mode & 0o100) or (info.st_gid == user and info.st_mode & 0o010)
        if not passable:
            return current
        current = os.path.join(current, part)
    return None


def _cover(folder: str, mode: str = "0755", size: str = "1m") -> None:
    _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV, f"mode={mode},size={size}")


def _bind_back(fd: int, path: str) -> None:
    """Mount what ``fd`` holds (opened before it was covered) at ``path`` again."""
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "ab").close()
    _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)


def _same(path: str, fd: int) -> bool:
    try:
        seen, held = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (seen.st_dev, seen.st_ino) == (held.st_dev, held.st_ino)


def _read_only_except(writable: Iterable[str]) -> None:
    """Remount every mount of this namespace read-only, but for those at ``writable`` paths."""
    keep_flags = {"nosuid": _MS_NOSUID, "nodev": _MS_NODEV, "noexec": _MS_NOEXEC}
    writable = set(writable)
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        target, options = _unescape(fields[4]), fields[5].split(",")
        if target in writable or "ro" in options or not os.path.exists(target):
            continue  # the last: a mount that was under a folder covered since
        flags = sum(flag for name, flag in keep_flags.items() if name in options)
        try:
            _mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | flags)
        except OSError as error:
            if error.errno != errno.EINVAL:  # the path is no longer a mount point here: something covers it
                raise


def private_view(
    *, keep: Iterable[str], writable: Iterable[str], hide: Iterable[str], user: int, tmp_bytes: int, links: Mapping[str, str] | None = None
) -> None:
    """Give this process (the run's child, still root) the filesystem ``user`` will see, in new mount, IPC and
    network namespaces.

    keep:     paths it needs where they are (the Python installation, its tree); bound back where covered.
    writable: its scratch: bound (back) where it is and left writable.
    hide:     folders it must not see (the course checkouts, the submissions): covered by an empty tmpfs.
    links:    symbolic links to make where nothing is left (a path the trusted side hands over -> what it means).
    Also covered: every folder at the root but :data:`SYSTEM_FOLDERS`, every folder on the way to a kept path that
    ``user`` may not pass through (a Python under /root), and /tmp, /var/tmp and /dev/shm, each with a fresh tmpfs
    of ``tmp_bytes``. Everything else is read-only.
    """
    writable = sorted({os.path.realpath(path) for path in writable})
    keep = sorted({os.path.realpath(path) for path in keep if os.path.exists(path)} | set(writable), key=len)
    hide = sorted({os.path.realpath(path) for path in hide} - {"/"}, key=len)
    blockers = {blocker for path in keep if (blocker := _blocker(path, user)) is not None}
    outside = {entry.path for entry in os.scandir("/") if entry.is_dir(follow_symlinks=False) and entry.name not in SYSTEM_FOLDERS}
    _check(_libc.unshare(_CLONE_NEWNS | _CLONE_NEWIPC | _CLONE_NEWNET), "unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET)")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing done here reaches the host
    held = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in keep}  # in this namespace, to bind back from
    try:
        for folder in sorted({*outside, *hide, *blockers} - set(TEMPORARY_FOLDERS), key=len):
            if os.path.isdir(folder):  # else already under an earlier cover
                _cover(folder)
        for folder in TEMPORARY_FOLDERS:
            os.makedirs(folder, exist_ok=True)  # /var/tmp, in the cover over /var
            _cover(folder, mode="1777", size=str(tmp_bytes))
        rebound = [path for path in keep if path in writable or not _same(path, held[path])]
        for path in rebound:
            _bind_back(held[path], path)
        for folder in hide:  # a hidden folder inside something bound back
            if _inside(folder, rebound) and os.path.isdir(folder):
                _cover(folder)
        for link, target in (links or {}).items():
            if not os.path.lexists(link):
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(target, link)
        _read_only_except([*TEMPORARY_FOLDERS, *writable])
    finally:
        for fd in held.values():
            os.close(fd)


def editable_checkouts() -> list[str]:
    """Checkouts of the course that an editable install points at: its finder in site-packages names them."""
    folders = []
    for finder in sys.meta_path:
        mapping = getattr(sys.modules.get(getattr(finder, "__module__", None) or ""), "MAPPING", None)
        if isinstance(mapping, dict) and isinstance(mapping.get("grader"), str):
            folders.append(os.path.dirname(mapping["grader"]))
    return folders


def forget_hidden_imports(hide: Iterable[str]) -> list[str]:
    """Drop from ``sys.path`` every entry in a hidden folder (the course checkout the zygote started from; the
    editable install's finder points there too and finds nothing once it is covered), except the Python
    installation itself (a virtual environment inside the checkout); returns the folders Python still needs."""
    hide = [os.path.realpath(path) for path in hide]
    installation = sorted({os.path.realpath(path) for path in (sys.prefix, sys.base_prefix, sys.exec_prefix)})

    def needed(entry: str) -> bool:
        path = os.path.realpath(entry or ".")
        return _inside(path, installation) or not _inside(path, hide)

    sys.path[:] = [entry for entry in sys.path if needed(entry)]
    return [*installation, *(entry for entry in sys.path if entry)]


def become(user: int) -> None:
    """Drop to ``user`` for good: no supplementary groups, its gid and uid, and no set-uid program can lift it again."""
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    os.setgroups([])
    os.setresgid(user, user, user)
    os.setresuid(user, user, user)
    deny_links()


# Syscall numbers of symlink, symlinkat, link, linkat, by the audit architecture seccomp reports.
_LINK_SYSCALLS = {0xC000003E: (88, 266, 86, 265), 0xC00000B7: (36, 37)}  # x86_64, aarch64
_MACHINES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_SECCOMP_MODE_FILTER, _PR_SET_SECCOMP = 2, 22
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def deny_links() -> None:
    """Refuse ``symlink`` and ``link`` (EPERM) in this process and all it starts (a seccomp filter).

    The spec's process writes into folders it shares with the learner's code (``tmp_path``) as root: a link the
    learner planted there would make it write elsewhere. With no way to make links, there is none to follow.
    On an architecture not listed here the filter is not installed (said in the module's docstring).
    """
    import platform

    arch = _MACHINES.get(platform.machine())
    if arch is None:
        return
    numbers = _LINK_SYSCALLS[arch]
    ld_w_abs, jeq_k, ret_k = 0x20, 0x15, 0x06
    program = [_SockFilter(ld_w_abs, 0, 0, 4), _SockFilter(jeq_k, 1, 0, arch), _SockFilter(ret_k, 0, 0, _SECCOMP_RET_ALLOW)]
    program.append(_SockFilter(ld_w_abs, 0, 0, 0))  # the syscall number
    for index, number in enumerate(numbers):
        remaining = len(numbers) - index - 1
        program.append(_SockFilter(jeq_k, remaining + 1, 0, number))  # to the EPERM return below
    program += [_SockFilter(ret_k, 0, 0, _SECCOMP_RET_ALLOW), _SockFilter(ret_k, 0, 0, _SECCOMP_RET_ERRNO | 1)]
    filters = (_SockFilter * len(program))(*program)
    fprog = _SockFprog(len(program), filters)
    _check(_libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "prctl(PR_SET_SECCOMP)")
