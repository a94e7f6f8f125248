"""Scores not divided by sqrt(d_k): the softmax saturates as d_k grows."""
TARGET = "attention.py"
REPLACE = {
    '    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)\n':
    '    scores = q @ k.transpose(-2, -1)\n',
}
