"""Heads split by viewing (B, T, C) straight as (B, n_head, T, head_dim): positions get mixed into heads."""
TARGET = "multihead.py"


def split_heads(x, n_head):
    B, T, C = x.shape
    if C % n_head != 0:
        raise ValueError(f"the channel dim ({C}) must be divisible by n_head ({n_head})")
    return x.reshape(B, n_head, T, C // n_head)
