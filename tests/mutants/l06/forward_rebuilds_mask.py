"""forward builds a fresh causal mask on every call instead of using the cached buffer."""
TARGET = "causal.py"


def forward(self, x, padding_mask=None, return_weights=False):
    T = x.shape[1]
    if T > self.block_size:
        raise ValueError(f"sequence length {T} exceeds block_size {self.block_size}")
    mask = causal_mask_like(x)
    if padding_mask is not None:
        mask = combine_masks(mask, padding_mask)
    return MultiHeadAttention.forward(self, x, mask, return_weights)


CausalSelfAttention.forward = forward
