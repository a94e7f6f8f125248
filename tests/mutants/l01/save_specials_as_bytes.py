"""save() writes special tokens through bytes_to_unicode like other tokens ("<|im start|>" becomes "<|imĠstart|>")."""
TARGET = "bpe.py"
REPLACE = {"            token = specials.get(idx) or written(idx)\n": "            token = written(idx)\n"}
