"""The confinement of sandboxed runs (grader/sandbox/confine.py), one mechanism at a time, in forked children.

The killing is tried in a forked manager that plays the zygote (a subreaper): the test process itself holds
warm zygotes that a subreaper's sweep would take for leftovers.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from grader.sandbox import confine

ROOT = os.geteuid() == 0
only_as_root = pytest.mark.skipif(not ROOT, reason="uids and mount namespaces of a run's own need root")


def in_child(work) -> dict:
    """Run ``work()`` in a forked child and return the dict it returns (or its error)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            result = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(result).encode() + b"\n")
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        line = pipe.readline()
    os.waitpid(pid, 0)
    return json.loads(line)


@only_as_root
def test_a_uid_is_one_runs_and_comes_back_only_once_its_processes_are_dead():
    pool = confine.UserPool(confine.RUN_UIDS[-2:])
    with pool.lease() as first, pool.lease() as second:
        assert first != second
        left = subprocess.Popen(["sleep", "60"], user=first, group=first, extra_groups=[], start_new_session=True)
    assert left.wait(timeout=5) == -signal.SIGKILL, "giving the uid back killed what its run left running"
    with pool.lease() as again:
        assert again in (first, second)


def _hoard(size: int) -> None:
    hoard = bytearray(size)
    hoard[::4096] = b"x" * len(hoard[::4096])  # touched, so it is charged
    time.sleep(60)
    os._exit(0)


def test_a_run_cgroup_bounds_the_run_as_a_whole_and_everything_of_it_dies_with_it():
    """Memory and tasks are counted over the run's processes together; a setsid()'ed, double-forked grandchild
    dies with the run, cgroup or not."""

    def zygote() -> dict:
        confine.become_subreaper()
        cgroup = confine.RunCgroup(memory_bytes=96 << 20, processes=16)
        read, write = os.pipe()
        run = os.fork()
        if run == 0:
            cgroup.join()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.write(write, f"{os.getpid()}\n".encode())
                    time.sleep(60)
                os._exit(0)
            hoarders = []
            for _ in range(2):  # 64 MiB each: fine alone, too much together
                hoarders.append(os.fork())
                if hoarders[-1] == 0:
                    _hoard(64 << 20)
            time.sleep(1)
            killed = sum(os.waitpid(pid, os.WNOHANG)[0] != 0 for pid in hoarders)
            forks = 0
            for _ in range(40):
                try:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                except OSError:
                    break
                forks += 1
            os.write(write, f"{forks} {killed}\n".encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:  # two lines: what's left running holds the pipe open
            lines = sorted((pipe.readline().split() for _ in range(2)), key=len)
        (grandchild,), (forks, killed) = ([int(word) for word in line] for line in lines)
        os.waitpid(run, 0)
        confine.kill_run(cgroup, None)
        return {"enforces": sorted(cgroup.enforces), "forks": forks, "killed": killed, "grandchild_alive": os.path.exists(f"/proc/{grandchild}")}

    seen = in_child(zygote)
    assert "error" not in seen, seen
    assert not seen["grandchild_alive"], "a setsid()'ed, double-forked grandchild outlived its run"
    if "pids" in seen["enforces"]:
        assert seen["forks"] < 16, "the run's task limit holds over all of its processes"
    if "memory" in seen["enforces"]:
        assert seen["killed"] == 1, "the run's memory limit holds over all of its processes"


@only_as_root
def test_a_private_view_hides_the_course_and_leaves_only_scratch_writable(tmp_path: Path):
    course, tree, scratch = tmp_path / "course", tmp_path / "tree", tmp_path / "scratch"
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "toy.py").write_text("the reference\n")
    tree.mkdir()
    (tree / "test_toy.py").write_text("a spec\n")
    scratch.mkdir()
    marker = Path("/tmp/llmfs-test-confine-marker")
    marker.unlink(missing_ok=True)

    with confine.RUN_USERS.lease() as uid:
        os.chown(scratch, uid, uid)

        def run() -> dict:
            confine.private_view(keep=[str(tree)], writable=[str(scratch)], hide=[str(course)], user=uid, tmp_bytes=1 << 20)
            confine.become(uid)
            wrote = {}
            for path in (marker, scratch / "mine", tree / "edited", Path("/run/lock/llmfs-test-confine")):
                try:
                    path.write_text("x")
                    wrote[str(path)] = True
                except OSError:
                    wrote[str(path)] = False
            return {"course": (course / "solutions" / "toy.py").exists(), "tree": (tree / "test_toy.py").read_text(), "wrote": wrote}

        seen = in_child(run)
    assert "error" not in seen, seen
    assert seen["course"] is False, "the course is out of view"
    assert seen["tree"] == "a spec\n", "the tree is kept in view"
    assert seen["wrote"] == {str(marker): True, str(scratch / "mine"): True, str(tree / "edited"): False, "/run/lock/llmfs-test-confine": False}
    assert not marker.exists(), "the run's /tmp is its own"
    assert (scratch / "mine").exists(), "its scratch is the real one"
