"""The mask buffer is persistent: it lands in the state dict (checkpoints no longer match GPT-2's)."""
TARGET = "causal.py"


def __init__(self, d_model, n_head, block_size, bias=True, dropout=0.0, use_sdpa=False):
    MultiHeadAttention.__init__(self, d_model, n_head, bias=bias, dropout=dropout)
    self.block_size = block_size
    self.use_sdpa = use_sdpa
    self.register_buffer("mask", causal_mask(block_size).view(1, 1, block_size, block_size))


CausalSelfAttention.__init__ = __init__
