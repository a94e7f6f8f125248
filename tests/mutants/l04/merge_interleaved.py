"""Heads merged in the wrong order: channels interleaved (dim-major) instead of head after head."""
TARGET = "multihead.py"
REPLACE = {
    '    return x.transpose(1, 2).contiguous().view(B, T, H * D)\n':
    '    return x.permute(0, 2, 3, 1).reshape(B, T, D * H)\n',
}
