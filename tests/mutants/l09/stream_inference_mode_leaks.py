"""stream keeps inference mode on across its yields: the caller's code between two tokens runs without autograd."""
TARGET = "generate.py"

_stream_each_step = stream


def stream(*args, **kwargs):
    with torch.inference_mode():  # wraps the yields too
        yield from _stream_each_step(*args, **kwargs)
