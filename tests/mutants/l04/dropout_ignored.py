"""Attention dropout never applied: dropout_p and training are not passed on."""
TARGET = "multihead.py"


def forward(self, x, mask=None, return_weights=False):
    q, k, v = self.c_attn(x).split(self.d_model, dim=-1)
    q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))
    y, weights = scaled_dot_product_attention(q, k, v, mask)
    out = self.c_proj(merge_heads(y))
    return (out, weights) if return_weights else out


MultiHeadAttention.forward = forward
