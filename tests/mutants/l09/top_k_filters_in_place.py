"""Top-k fills -inf into the caller's logits in place (masked_fill_): the input tensor is destroyed."""
TARGET = "sampling.py"
REPLACE = {'    return logits.masked_fill(logits < kth_largest, float("-inf"))\n':
           '    return logits.masked_fill_(logits < kth_largest, float("-inf"))\n'}
