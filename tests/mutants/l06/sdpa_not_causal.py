"""The fused path forgets is_causal=True: every token sees the whole sequence."""
TARGET = "causal.py"
REPLACE = {
    '            attn_mask=None if padding_mask is None else mask,\n':
    '            attn_mask=None if padding_mask is None else padding_mask[:, None, None, :],\n',
    '            is_causal=padding_mask is None,':
    '            is_causal=False,',
}
