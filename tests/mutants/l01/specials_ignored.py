"""Special tokens ignored: allowed special tokens are split by the regex like ordinary text."""
TARGET = "bpe.py"

_reference_encode = RegexTokenizer.encode


def encode(self, text, *, allowed_special=frozenset(), disallowed_special="all"):
    _reference_encode(self, text, allowed_special=allowed_special, disallowed_special=disallowed_special)  # raises as before
    return self.encode_ordinary(text)


RegexTokenizer.encode = encode
