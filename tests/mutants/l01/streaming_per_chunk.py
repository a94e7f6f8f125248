"""Streaming encodes each chunk on its own, so a pre-token cut by a chunk boundary is split in two."""
TARGET = "bpe.py"
REPLACE = {
    "            ids, buffer = self._encode_settled(buffer, allowed_regex, longest)\n            yield from ids\n": (
        "            yield from self.encode(buffer, allowed_special=allowed, disallowed_special=disallowed)\n"
        '            buffer = ""\n'
    ),
}
