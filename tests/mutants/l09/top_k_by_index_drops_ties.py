"""Top-k keeps exactly k indices: tokens tied with the k-th largest are dropped (transformers keeps them)."""
TARGET = 'sampling.py'
REPLACE = {
    '    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1): broadcasts over the row\n    return logits.masked_fill(logits < kth_largest, float("-inf"))\n': '    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, torch.topk(logits, k, dim=-1).indices, True)\n    return logits.masked_fill(~keep, float("-inf"))\n',
}
