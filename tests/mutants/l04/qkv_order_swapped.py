"""q and k taken from c_attn in the wrong order: the output columns are [q | k | v]."""
TARGET = "multihead.py"


def forward(self, x, mask=None, return_weights=False):
    k, q, v = self.c_attn(x).split(self.d_model, dim=-1)
    q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))
    y, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training)
    out = self.resid_dropout(self.c_proj(merge_heads(y)))
    return (out, weights) if return_weights else out


MultiHeadAttention.forward = forward
