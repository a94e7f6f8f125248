"""Masked scores filled with 0 instead of -inf: exp(0) = 1 still gives masked keys weight."""
TARGET = "attention.py"


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    if mask is not None and mask.dtype != torch.bool:  # the given checks, kept
        raise ValueError(f"mask must be a bool tensor (True = may attend), got dtype {mask.dtype}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    weights = softmax(scores, dim=-1)
    weights = F.dropout(weights, p=dropout_p, training=training)
    return weights @ v, weights
