"""Off-by-one diagonal: tril(1) lets position t see token t + 1."""
TARGET = "causal.py"


def causal_mask(seq_len, *, device=None):
    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril(1)
