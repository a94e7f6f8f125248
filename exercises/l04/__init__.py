"""Lesson 4: multi-head attention (split/merge heads, fused QKV, output projection)."""
