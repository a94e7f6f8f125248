"""Softmax over the queries (dim=-2) instead of over the keys (dim=-1)."""
TARGET = "attention.py"
REPLACE = {
    '    weights = softmax(scores, dim=-1)\n':
    '    weights = softmax(scores, dim=-2)\n',
}
