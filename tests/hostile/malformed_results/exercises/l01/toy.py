"""Finds the results writer in its own process (through gc) and writes lines that carry the run's secret but
are malformed: a field missing, of another type, NaN, absurdly nested. They are ignored and the grading run goes
on for everyone. Add is wrong, the counter right."""
import gc
import json
import os

SPEC = "exercises/l01/test_toy.py::test_add_small"

for writer in [obj for obj in gc.get_objects() if type(obj).__name__ == "ResultWriter"]:
    nonce = writer._nonce
    good = {"nonce": nonce, "nodeid": SPEC, "when": "call", "outcome": "passed", "message": "", "duration": 0.0}
    lines = [json.dumps({key: value for key, value in good.items() if key != missing}) for missing in good if missing != "nonce"]
    lines += [json.dumps({**good, key: value}) for key, value in (("nodeid", [SPEC]), ("when", "later"), ("message", None), ("duration", "fast"), ("duration", True))]
    lines += [json.dumps({**good, "duration": float("nan")}), "[" * 100_000 + "]" * 100_000, json.dumps(nonce)]
    for line in lines:
        os.write(writer._fd, (line + "\n").encode())


def add(a, b):
    return a - b


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count
