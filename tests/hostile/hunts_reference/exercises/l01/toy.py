"""Hunts for the reference: imports it, asks the editable install and the grader's own package where the course
is, follows the paths other processes name (their command lines, /proc/PID/cwd and root) and walks the whole
filesystem for a toy.py with the solution markers. It uses whatever it finds; it must find nothing, so it earns
only what its own code does: add is wrong, the counter right."""
import os
import sys
import time

MARK = "### BEGIN SOLUTION"
SKIP = {"/proc", "/sys", "/dev", "/usr", "/boot", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/snap", "/var/lib", "/var/cache"}
BORING = {"site-packages", "dist-packages", "__pycache__", ".git", "node_modules", ".cache"}


def _reference_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(1 << 20)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return text if MARK in text and "def add" in text else None


def _imported():
    for name in ("solutions.l01.toy", "grader.lessons"):
        try:
            module = __import__(name, fromlist=["_"])
        except Exception:  # noqa: BLE001
            continue
        if name == "grader.lessons":
            yield os.path.join(str(module.COURSE_ROOT), "tests", "fixtures", "minicourse", "solutions", "l01", "toy.py")
        else:
            yield module.__file__


def _named_elsewhere():
    """Folders the editable install, sys.path and every process's command line, cwd and root name."""
    for finder in sys.meta_path:
        mapping = getattr(sys.modules.get(getattr(finder, "__module__", "") or ""), "MAPPING", {})
        yield from (os.path.dirname(path) for path in mapping.values() if isinstance(path, str))
    yield from (entry for entry in sys.path if entry)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read().replace(b"\0", b" ").decode(errors="replace").replace("'", " ").replace('"', " ").split()
        except OSError:
            words = []
        yield from (word.rstrip(",;)") for word in words if word.startswith("/"))
        yield f"/proc/{pid}/cwd"
        yield f"/proc/{pid}/root/tmp"


def _walk(top, deadline):
    if os.path.basename(top.rstrip("/")) in BORING or top.startswith((sys.prefix, sys.base_prefix)):
        return
    for folder, dirs, files in os.walk(top):
        if time.monotonic() > deadline:
            return
        dirs[:] = [d for d in dirs if d not in BORING and os.path.join(folder, d) not in SKIP | {sys.prefix, sys.base_prefix}]
        if "toy.py" in files:
            yield os.path.join(folder, "toy.py")


def _hunt():
    deadline = time.monotonic() + 20
    here = os.path.realpath(__file__)
    places = [*_imported()]
    for folder in _named_elsewhere():
        places += [os.path.join(folder, "solutions", "l01", "toy.py"), *_walk(folder, deadline)]
    places += _walk("/", deadline)
    for path in places:
        try:
            mine = os.path.realpath(path) == here
        except OSError:
            mine = False
        text = None if mine else _reference_text(path)
        if text is not None:
            return text
    return None


_found = _hunt()
if _found is not None:
    _namespace = {}
    exec(compile(_found, "the reference", "exec"), _namespace)
    add, Counter = _namespace["add"], _namespace["Counter"]
else:

    def add(a, b):
        return 0

    class Counter:
        def __init__(self) -> None:
            self.count = 0

        def bump(self, by: int = 1) -> int:
            self.count += by
            return self.count
