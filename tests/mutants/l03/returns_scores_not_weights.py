"""Returns the raw scores instead of the softmax weights for plotting."""
TARGET = "attention.py"

_sdpa = scaled_dot_product_attention


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    out, _ = _sdpa(q, k, v, mask, dropout_p, training)
    return out, q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
