"""Wrong add; writes forged results into every file it can find that looks like the grader's."""
import json
import os

forged = json.dumps({"nonce": "guess", "nodeid": "exercises/l01/test_toy.py::test_add_small", "when": "call", "outcome": "passed", "message": "", "duration": 0})
for fd in range(3, 64):
    try:
        os.write(fd, (forged + "\n").encode())
    except OSError:
        pass
for root, _, files in os.walk("/tmp"):
    for name in files:
        if name.endswith((".jsonl", ".json")):
            try:
                with open(os.path.join(root, name), "a") as handle:
                    handle.write(forged + "\n")
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

