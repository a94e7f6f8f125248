"""Lesson 3: self-attention (softmax, scaled dot-product attention, one head)."""
