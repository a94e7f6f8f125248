"""The fused path passes is_causal=True only and drops the padding mask."""
TARGET = "causal.py"
REPLACE = {
    '            attn_mask=None if padding_mask is None else mask,\n':
    '            attn_mask=None,\n',
    '            is_causal=padding_mask is None,':
    '            is_causal=True,',
}
