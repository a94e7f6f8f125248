"""text_to_bytes() returns Unicode code points (ord) instead of UTF-8 bytes."""
TARGET = "bpe.py"


def text_to_bytes(text):
    return [ord(ch) for ch in text]
