"""count_bytes counts characters (decoded text) instead of UTF-8 bytes."""
TARGET = "train.py"


def count_bytes(tokenizer, ids):
    return len(tokenizer.decode([int(i) for i in ids]))
