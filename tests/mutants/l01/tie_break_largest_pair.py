"""Tie-break on the wrong key: the largest pair wins a tie instead of the smallest."""
TARGET = "bpe.py"
REPLACE = {"    return (-count, pair)\n": "    return (-count, tuple(-i for i in pair))\n"}
