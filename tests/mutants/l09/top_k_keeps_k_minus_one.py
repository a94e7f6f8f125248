"""Top-k keeps k - 1 tokens: the k-th largest itself is removed (<= instead of <)."""
TARGET = 'sampling.py'
REPLACE = {
    '    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1): broadcasts over the row\n    return logits.masked_fill(logits < kth_largest, float("-inf"))\n': '    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]\n    return logits.masked_fill(logits <= kth_largest, float("-inf"))\n',
}
