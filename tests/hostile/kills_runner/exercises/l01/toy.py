"""Wrong add; tries to kill the process that runs it and the grader: the run survives, real outcomes count."""
import os
import signal

for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def add(a, b):
    return 0


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count
