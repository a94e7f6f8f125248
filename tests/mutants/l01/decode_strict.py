"""Decode crashes on a partial UTF-8 sequence (errors="strict" instead of "replace")."""
TARGET = "bpe.py"


def bytes_to_text(ids):
    return bytes(ids).decode("utf-8")
