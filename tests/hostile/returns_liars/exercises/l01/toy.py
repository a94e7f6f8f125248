"""Wrong add that returns objects equal to everything (an int subclass, an object with __eq__, a tensor with __torch_function__): only plain values cross, so they equal nothing."""
import torch


class Yes(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Always:
    def __eq__(self, other):
        return True

    def __bool__(self):
        return True


class Agreeable(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return True


_calls = [0]


def add(a, b):
    _calls[0] += 1
    return [Yes(0), Always(), torch.zeros(1).as_subclass(Agreeable)][_calls[0] % 3]


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count
