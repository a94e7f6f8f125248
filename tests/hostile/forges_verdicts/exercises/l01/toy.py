"""Wrong add; hunts for the verdict writer (gc, open files, sockets) and writes "passed" wherever it can: verdicts are written by a process it never ran in."""
import gc
import json
import os

forged = {"nodeid": "exercises/l01/test_toy.py::test_add_small", "when": "call", "outcome": "passed", "message": "", "duration": 0}
for obj in gc.get_objects():
    if type(obj).__name__ in ("ResultWriter", "Channel", "Peer"):
        for name in ("write", "send"):
            try:
                getattr(obj, name)(**forged) if name == "write" else None
            except Exception:
                pass
for fd in range(3, 256):
    try:
        os.write(fd, (json.dumps({"nonce": "x", **forged}) + "\n").encode())
    except OSError:
        pass


def add(a, b):
    return a * b


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count
