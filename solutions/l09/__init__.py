"""Lesson 9: inference and sampling (decoding strategies, the KV cache, beam search)."""
