"""stream computes every token first and yields them afterwards: nothing streams, the caller waits for the end."""
TARGET = "generate.py"

_stream_lazily = stream


def stream(*args, **kwargs):
    tokens = list(_stream_lazily(*args, **kwargs))
    yield from tokens
