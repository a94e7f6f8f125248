"""Lesson 5: normalization and residual connections (LayerNorm, GELU, the MLP, pre-norm and post-norm blocks)."""
