"""Writes into /tmp, /var/tmp, /dev/shm and Python's temporary folder, and computes through a temporary file:
every one of them is the run's own, writable and gone with it. Otherwise honest: full marks."""
import os
import tempfile

MARKER = "llmfs-hostile-writes-tmp"

for folder in ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir()):
    try:
        with open(os.path.join(folder, MARKER), "w") as handle:
            handle.write("left behind by a graded submission\n")
    except OSError:
        pass


def add(a, b):
    with tempfile.TemporaryFile("w+") as handle:
        handle.write(str(a + b))
        handle.seek(0)
        return int(handle.read())


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count
