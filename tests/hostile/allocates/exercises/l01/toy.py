"""add() allocates without bound: it hits the memory limit; the counter still earns its point."""


def add(a, b):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 26))

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

