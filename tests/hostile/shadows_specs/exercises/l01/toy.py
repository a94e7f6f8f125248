"""Wrong add; when first called, replaces the code of every spec function it can find: none are in its process, so only its Counter earns."""
import gc
import types


def _noop():
    pass


def add(a, b):
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__name__.startswith("test_"):
            obj.__code__ = _noop.__code__
    return 0

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

