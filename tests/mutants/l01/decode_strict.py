"""Decode crashes on a partial UTF-8 sequence (errors="strict" instead of "replace")."""
TARGET = "bpe.py"
REPLACE = {'    return bytes(ids).decode("utf-8", errors="replace")\n': '    return bytes(ids).decode("utf-8")\n'}
