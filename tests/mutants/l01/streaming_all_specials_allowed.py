"""Streaming splits on every registered special token, not only the allowed ones: with none allowed, "<|endoftext|>" still becomes its id."""
TARGET = "bpe.py"
REPLACE = {"        allowed_regex = regex.compile(special_token_pattern(allowed)) if allowed else None\n": "        allowed_regex = regex.compile(special_token_pattern(self.special_tokens)) if self.special_tokens else None\n"}
