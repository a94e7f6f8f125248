"""The fused path passes is_causal=True only and drops the padding mask."""
TARGET = "causal.py"

_forward = CausalSelfAttention.forward


def forward(self, x, padding_mask=None, return_weights=False):
    if self.use_sdpa and not return_weights:
        padding_mask = None
    return _forward(self, x, padding_mask, return_weights)


CausalSelfAttention.forward = forward
