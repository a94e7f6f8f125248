"""Writes malformed frames (the grader's own marker, missing fields, wrong types, absurd sizes, bad JSON) into every descriptor when first called: it loses its own points, and every other submission is graded."""
import json
import os
import struct

MARKER = b"\x00LLMFS-frame\x00"


def _frame(document, blobs=()):
    text = json.dumps(document).encode() if not isinstance(document, bytes) else document
    return MARKER + struct.pack("<II", len(text), len(blobs)) + text + b"".join(struct.pack("<Q", len(b)) + b for b in blobs)


def _garble():
    frames = [
        _frame({"k": "rep"}),
        _frame({"k": "rep", "value": ["T", [1, "float32", [10**9], 0, True, False, 0, -1]], "ctx": {}, "sync": [[], []]}),
        _frame({"k": "err", "type": 3, "text": None, "ctx": {}, "sync": [[], []]}),
        _frame({"k": "rep", "value": ["H", 2], "ctx": {"rng": 5}, "sync": "nope"}),
        _frame(b"{not json"),
        MARKER + struct.pack("<II", 2**31, 2**16),
    ]
    for fd in range(3, 64):
        for frame in frames:
            try:
                os.write(fd, frame)
            except OSError:
                break


def add(a, b):
    _garble()
    return a + b


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        _garble()
        self.count += by
        return self.count
