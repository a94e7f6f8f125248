"""Wrong add; prints what looks like a green pytest run: output is never read."""
import sys

print("============================== 3 passed in 0.01s ===============================")
sys.stderr.write('{"nodeid": "exercises/l01/test_toy.py::test_add_small", "when": "call", "outcome": "passed"}\n')


def add(a, b):
    return 0

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

