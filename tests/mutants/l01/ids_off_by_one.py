"""Vocabulary ids off by one at 256: the first merge gets id 257."""
TARGET = "bpe.py"
REPLACE = {"        for new_id in range(256, vocab_size):\n": "        for new_id in range(257, vocab_size + 1):\n"}
