"""Disallowed special tokens are not checked: text holding "<|endoftext|>" is encoded instead of raising."""
TARGET = "bpe.py"

_reference_encode = RegexTokenizer.encode


def encode(self, text, *, allowed_special=frozenset(), disallowed_special="all"):
    return _reference_encode(self, text, allowed_special=allowed_special, disallowed_special=())


RegexTokenizer.encode = encode
