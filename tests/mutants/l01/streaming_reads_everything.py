"""Streaming that is not streaming: it joins all the chunks first (not lazy, memory grows with the input)."""
TARGET = "bpe.py"


def encode_iterable(self, lines, *, allowed_special=frozenset(), disallowed_special="all"):
    yield from self.encode("".join(lines), allowed_special=allowed_special, disallowed_special=disallowed_special)


RegexTokenizer.encode_iterable = encode_iterable
