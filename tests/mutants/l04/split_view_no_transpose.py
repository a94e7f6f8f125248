"""Heads split by viewing (B, T, C) straight as (B, n_head, T, head_dim): positions get mixed into heads."""
TARGET = "multihead.py"
REPLACE = {
    '    return x.view(B, T, n_head, C // n_head).transpose(1, 2)\n':
    '    return x.reshape(B, n_head, T, C // n_head)\n',
}
