"""The mask is always built on the CPU, whatever device was asked for."""
TARGET = "causal.py"


def causal_mask(seq_len, *, device=None):
    return torch.ones(seq_len, seq_len, dtype=torch.bool).tril()
