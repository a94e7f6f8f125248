"""Wrong add, and ships a conftest.py and pytest.ini that would make everything pass: they are ignored."""


def add(a, b):
    return 0

class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, by: int = 1) -> int:
        self.count += by
        return self.count

