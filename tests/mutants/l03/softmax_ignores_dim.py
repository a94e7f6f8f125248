"""Softmax always over the last dim, whatever dim it is given."""
TARGET = "attention.py"

_softmax_last = softmax


def softmax(x, dim=-1):
    return _softmax_last(x, dim=-1)
