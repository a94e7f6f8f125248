"""Lesson 6: the causal mask (a token sees only itself and the past)."""
