"""Wrong add; tries to delete the specs, the course data and its own tree: it can't, and nothing is lost."""
import os
import pathlib
import shutil

here = pathlib.Path(__file__).resolve().parent
for target in (here, here.parent, here.parent.parent / "data", pathlib.Path(os.getcwd())):
    shutil.rmtree(target, ignore_errors=True)


def add(a, b):
    return 0

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

