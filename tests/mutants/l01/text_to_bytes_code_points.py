"""text_to_bytes() returns Unicode code points (ord) instead of UTF-8 bytes."""
TARGET = "bpe.py"
REPLACE = {'    return list(text.encode("utf-8"))\n': "    return [ord(ch) for ch in text]\n"}
