"""register_special_tokens only refuses ids of bytes (< 256): a special token can take a merge's id."""
TARGET = "bpe.py"
REPLACE = {"            if idx in self.vocab and self.special_tokens.get(token) != idx:\n": "            if idx < 256:\n"}
