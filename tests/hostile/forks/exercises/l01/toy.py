"""Forks at import: the child forges results on every open file and lingers; only real outcomes count."""
import json
import os
import time

if os.fork() == 0:
    forged = json.dumps({"nodeid": "exercises/l01/test_toy.py::test_add_small", "when": "call", "outcome": "passed", "message": "", "duration": 0})
    for fd in range(3, 64):
        try:
            os.write(fd, (forged + "\n").encode())
        except OSError:
            pass
    time.sleep(3600)


def add(a, b):
    return a - b

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

