"""Scores divided by sqrt(d_model) instead of sqrt(head_dim)."""
TARGET = "multihead.py"

import math as _math


def forward(self, x, mask=None, return_weights=False):
    q, k, v = self.c_attn(x).split(self.d_model, dim=-1)
    q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / _math.sqrt(self.d_model)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = self.attn_dropout(torch.softmax(scores, dim=-1))
    out = self.resid_dropout(self.c_proj(merge_heads(weights @ v)))
    return (out, weights) if return_weights else out


MultiHeadAttention.forward = forward
