"""Lesson 2: token embeddings and positional encodings (sinusoidal, learned, RoPE)."""
