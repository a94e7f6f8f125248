"""add() never returns: its specs time out, the counter still earns its point."""


def add(a, b):
    while True:
        pass

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

