"""The fused path forgets is_causal=True: every token sees the whole sequence."""
TARGET = "causal.py"


def forward(self, x, padding_mask=None, return_weights=False):
    T = x.shape[1]
    mask = self.mask[:, :, :T, :T]
    if padding_mask is not None:
        mask = combine_masks(mask[0, 0], padding_mask)
    if return_weights or not self.use_sdpa:
        return MultiHeadAttention.forward(self, x, mask, return_weights)
    q, k, v = (split_heads(t, self.n_head) for t in self.c_attn(x).split(self.d_model, dim=-1))
    attn_mask = None if padding_mask is None else padding_mask[:, None, None, :]
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    return self.resid_dropout(self.c_proj(merge_heads(y)))


CausalSelfAttention.forward = forward
