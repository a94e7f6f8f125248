"""Streaming keeps a tail for pre-tokens but not for special tokens: "<|endof" + "text|>" is cut."""
TARGET = "bpe.py"
REPLACE = {"        limit = max(0, len(buffer) - (longest - 1))  # a special token starting here or later may still grow\n": "        limit = len(buffer)\n"}
