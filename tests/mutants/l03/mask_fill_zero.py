"""Masked scores filled with 0 instead of -inf: exp(0) = 1 still gives masked keys weight."""
TARGET = "attention.py"
REPLACE = {
    '        scores = scores.masked_fill(~mask, float("-inf"))\n':
    '        scores = scores.masked_fill(~mask, 0.0)\n',
}
