"""Leaves a setsid()'ed, double-forked grandchild behind that would write a marker two seconds later and stay:
it is killed with the run. Add is wrong, the counter right."""
import os
import time

MARKER = "llmfs-hostile-lingers"

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        for folder in ("/tmp", "/var/tmp", "/dev/shm", os.environ.get("HOME", "/tmp")):
            try:
                with open(os.path.join(folder, MARKER), "w") as handle:
                    handle.write("outlived its run\n")
            except OSError:
                pass
        time.sleep(3600)
    os._exit(0)


def add(a, b):
    return a - b


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count
