"""Overlapping special tokens: the shorter one is tried first and wins."""
TARGET = "bpe.py"


def special_token_pattern(tokens):
    shortest_first = sorted(tokens, key=len)
    return "(" + "|".join(regex.escape(token) for token in shortest_first) + ")"
