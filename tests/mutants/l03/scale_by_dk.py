"""Scores divided by d_k instead of sqrt(d_k)."""
TARGET = "attention.py"
REPLACE = {
    '    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)\n':
    '    scores = q @ k.transpose(-2, -1) / d_k\n',
}
