"""Heads merged by reshaping (B, H, T, D) straight to (B, T, H * D), without transposing back first."""
TARGET = "multihead.py"
REPLACE = {
    '    return x.transpose(1, 2).contiguous().view(B, T, H * D)\n':
    '    return x.reshape(B, T, H * D)\n',
}
