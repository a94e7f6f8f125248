"""Scores not divided by sqrt(d_k): the softmax saturates as d_k grows."""
TARGET = "attention.py"


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    if mask is not None and mask.dtype != torch.bool:  # the given checks, kept
        raise ValueError(f"mask must be a bool tensor (True = may attend), got dtype {mask.dtype}")
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = softmax(scores, dim=-1)
    weights = F.dropout(weights, p=dropout_p, training=training)
    return weights @ v, weights
