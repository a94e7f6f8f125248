"""Top-k keeps k - 1 tokens: the k-th largest itself is removed (<= instead of <)."""
TARGET = "sampling.py"


def top_k_filter(logits, k):
    k = min(k, logits.shape[-1])
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits <= kth_largest, float("-inf"))
