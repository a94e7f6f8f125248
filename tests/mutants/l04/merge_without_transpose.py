"""Heads merged by reshaping (B, H, T, D) straight to (B, T, H * D), without transposing back first."""
TARGET = "multihead.py"


def merge_heads(x):
    B, H, T, D = x.shape
    return x.reshape(B, T, H * D)
