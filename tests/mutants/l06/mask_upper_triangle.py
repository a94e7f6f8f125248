"""The upper triangle: every token sees the future instead of the past."""
TARGET = "causal.py"


def causal_mask(seq_len, *, device=None):
    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).triu()
