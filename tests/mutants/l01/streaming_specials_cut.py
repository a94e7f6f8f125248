"""Streaming keeps a tail for pre-tokens but not for special tokens: "<|endof" + "text|>" is cut."""
TARGET = "bpe.py"

_reference_settled = RegexTokenizer._encode_settled


def _encode_settled(self, buffer, allowed_regex, longest):
    return _reference_settled(self, buffer, allowed_regex, 1)


RegexTokenizer._encode_settled = _encode_settled
