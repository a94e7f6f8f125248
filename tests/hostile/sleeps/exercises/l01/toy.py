"""Sleeps just under the per-spec timeout in every call, then answers wrong: it holds a worker as long as it
can, and the submission's time budget bounds how long that is. Nothing earned."""
import time


def add(a, b):
    time.sleep(2.5)
    return a - b


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        time.sleep(2.5)
        return -1
