"""load() takes only the ids after the last merge as special tokens, missing those placed before the bytes."""
TARGET = "bpe.py"
REPLACE = {"        tokenizer.special_tokens = {token: idx for token, idx in vocab_json.items() if idx not in known}\n": "        tokenizer.special_tokens = {token: idx for token, idx in vocab_json.items() if idx >= 256 + len(merges)}\n"}
