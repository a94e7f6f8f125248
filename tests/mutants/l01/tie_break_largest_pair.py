"""Tie-break on the wrong key: the largest pair wins a tie instead of the smallest."""
TARGET = "bpe.py"


def merge_priority(pair, count):
    return (-count, tuple(-i for i in pair))
