"""Answers wrong, and tries what a grader keeps between runs: the reference times that set every submission's
time budget (~/.cache/llmfs), a course checkout, other runs' /tmp; and writes raw bytes to its stdout, past the
print capture, as if to forge a frame. None of it is reachable: it scores exactly its wrong answers, 0."""
import glob, os

FOUND = []
for pattern in ("/root/.cache/llmfs/*", "/root/.cache/*", "/work/*/grader/grading/grade.py", "/tmp/*"):
    FOUND += glob.glob(pattern)
for path in FOUND:
    try:
        with open(path, "w") as handle:
            handle.write('{"L01:x": 0.001}')
    except OSError:
        pass
try:
    os.write(1, b"\x00LLMFS-FRAME garbage\n" * 100)  # raw bytes on stdout, past the StringIO capture
except OSError:
    pass


def add(a, b):
    return a * b


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self, by=1):
        self.count += 2 * by
        return self.count
