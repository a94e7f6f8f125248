"""Overlapping special tokens: the shorter one is tried first and wins."""
TARGET = "bpe.py"
REPLACE = {"    longest_first = sorted(tokens, key=len, reverse=True)\n": "    longest_first = sorted(tokens, key=len)\n"}
