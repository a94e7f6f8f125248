"""The mask is a plain tensor attribute, not a buffer: .to(device) leaves it behind."""
TARGET = "causal.py"


def __init__(self, d_model, n_head, block_size, bias=True, dropout=0.0, use_sdpa=False):
    MultiHeadAttention.__init__(self, d_model, n_head, bias=bias, dropout=dropout)
    self.block_size = block_size
    self.use_sdpa = use_sdpa
    self.mask = causal_mask(block_size).view(1, 1, block_size, block_size)


CausalSelfAttention.__init__ = __init__
