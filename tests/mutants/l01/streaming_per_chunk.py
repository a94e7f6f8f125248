"""Streaming encodes each chunk on its own, so a pre-token cut by a chunk boundary is split in two."""
TARGET = "bpe.py"


def encode_iterable(self, lines, *, allowed_special=frozenset(), disallowed_special="all"):
    for line in lines:
        yield from self.encode(line, allowed_special=allowed_special, disallowed_special=disallowed_special)


RegexTokenizer.encode_iterable = encode_iterable
