"""Top-k keeps exactly k indices: tokens tied with the k-th largest are dropped (transformers keeps them)."""
TARGET = "sampling.py"


def top_k_filter(logits, k):
    k = min(k, logits.shape[-1])
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, torch.topk(logits, k, dim=-1).indices, True)
    return logits.masked_fill(~keep, float("-inf"))
