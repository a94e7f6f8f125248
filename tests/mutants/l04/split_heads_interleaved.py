"""Heads carved interleaved: view(B, T, head_dim, n_head) gives head h channels h, h + n_head, ... instead of a contiguous block."""
TARGET = "multihead.py"
REPLACE = {
    "    return x.view(B, T, n_head, C // n_head).transpose(1, 2)\n":
    "    return x.view(B, T, C // n_head, n_head).permute(0, 3, 1, 2)\n",
}
