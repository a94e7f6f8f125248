"""A mask that lets a token not see itself: tril(-1) drops the diagonal."""
TARGET = "causal.py"


def causal_mask(seq_len, *, device=None):
    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril(-1)
