"""register_special_tokens replaces the special tokens registered before instead of adding to them."""
TARGET = "bpe.py"
REPLACE = {"        self.special_tokens.update(special_tokens)\n": "        self.special_tokens = dict(special_tokens)\n"}
