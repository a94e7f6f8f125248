"""Streaming that is not streaming: it keeps all the chunks and encodes them at the end (not lazy, memory grows with the input)."""
TARGET = "bpe.py"
REPLACE = {"            ids, buffer = self._encode_settled(buffer, allowed_regex, longest)\n            yield from ids\n": ""}
