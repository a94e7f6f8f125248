"""Mask polarity flipped: -inf where the mask is True (True means 'may attend')."""
TARGET = "attention.py"
REPLACE = {
    '        scores = scores.masked_fill(~mask, float("-inf"))\n':
    '        scores = scores.masked_fill(mask, float("-inf"))\n',
}
