"""Lesson 2: token embeddings and positional encodings.

A model reads token ids, but it computes with vectors: a token embedding is a learned table with one
row per token. Attention (lesson 3) ignores order, so each position also gets a vector, added to the
token's: a fixed sinusoid ("Attention Is All You Need"), a learned table (GPT-2), or, as an extension,
a rotation of queries and keys (RoPE, used by LLaMA).
"""
from __future__ import annotations

import torch
from torch import nn


class TokenEmbedding(nn.Module):
    """A lookup table: token id i -> row i of ``weight`` (vocab_size, d_model).

    Equal to ``F.embedding(ids, weight)``, values and gradients: in the backward pass only the rows that
    were looked up get a gradient, and a row used several times (a padding id, say) gets the sum.

    >>> emb = TokenEmbedding(vocab_size=10, d_model=4)
    >>> emb(torch.tensor([[1, 2, 2]])).shape            # (B, T) -> (B, T, d_model)
    torch.Size([1, 3, 4])
    """

    def __init__(self, vocab_size: int, d_model: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.weight = nn.Parameter(torch.randn(vocab_size, d_model) * 0.02)  # GPT-2's init: normal(0, 0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: a tensor of any integer dtype (int64, int32, uint8, ...) and any shape ((B, T), (T,), (B, 0)
        when there are no tokens, ...) with values in [0, vocab_size).

        Returns (*ids.shape, d_model), in weight's dtype. ValueError naming the dtype for float, bool or
        complex ids, and naming the values for an id out of range.
        """
        raise NotImplementedError('L02 TokenEmbedding.forward() is not implemented yet: write it in exercises/l02/embeddings.py (stuck? run: llmfs hint L02)')


def sinusoidal_positional_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """The fixed encoding of "Attention Is All You Need", shape (max_len, d_model):

        PE[p, 2i]     = sin(p / 10000^(2i / d_model))
        PE[p, 2i + 1] = cos(p / 10000^(2i / d_model))

    Pair i is a point turning on a circle at its own frequency, so PE[p + k] is PE[p] with every pair
    rotated by a fixed angle: a linear function of PE[p] that does not depend on p.
    Returned in float32 (the default dtype), every entry within float32 rounding of the exact value at
    every position, thousands included: in float32, p / 10000^(2i / d_model) is off by ~1e-3 at p = 10000.
    max_len may be 0 (an empty table). ValueError for an odd d_model.

    >>> sinusoidal_positional_encoding(max_len=3, d_model=4)[0]
    tensor([0., 1., 0., 1.])
    """
    raise NotImplementedError('L02 sinusoidal_positional_encoding() is not implemented yet: write it in exercises/l02/embeddings.py (stuck? run: llmfs hint L02)')


class LearnedPositionalEmbedding(nn.Module):
    """One learned vector per position, as GPT-2's ``wpe``: ``weight`` (max_len, d_model).

    >>> LearnedPositionalEmbedding(max_len=16, d_model=4)(5).shape
    torch.Size([5, 4])
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.max_len = max_len
        self.d_model = d_model
        self.weight = nn.Parameter(torch.randn(max_len, d_model) * 0.02)

    def forward(self, seq_len: int) -> torch.Tensor:
        """The vectors of positions 0 .. seq_len - 1: (seq_len, d_model); seq_len = 0 gives (0, d_model).

        ValueError naming seq_len and max_len when seq_len > max_len (the model has no vector for
        those positions) or seq_len < 0.
        """
        raise NotImplementedError('L02 LearnedPositionalEmbedding.forward() is not implemented yet: write it in exercises/l02/embeddings.py (stuck? run: llmfs hint L02)')


class InputEmbedding(nn.Module):
    """What a transformer block reads: token embedding + positional encoding.

    positional="learned": ``pos`` is a LearnedPositionalEmbedding (GPT-2).
    positional="sinusoidal": ``pos`` is a (max_len, d_model) buffer, not trained and not saved.

    >>> emb = InputEmbedding(vocab_size=10, d_model=4, max_len=8)
    >>> emb(torch.tensor([[1, 2, 3]])).shape            # (B, T) -> (B, T, d_model)
    torch.Size([1, 3, 4])
    """

    def __init__(self, vocab_size: int, d_model: int, max_len: int, positional: str = "learned"):
        super().__init__()
        self.max_len = max_len
        self.positional = positional
        self.tok = TokenEmbedding(vocab_size, d_model)
        if positional == "learned":
            self.pos = LearnedPositionalEmbedding(max_len, d_model)
        elif positional == "sinusoidal":
            self.register_buffer("pos", sinusoidal_positional_encoding(max_len, d_model), persistent=False)
        else:
            raise ValueError(f"positional must be 'learned' or 'sinusoidal', got {positional!r}")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: (B, T), or any shape ending in T ((T,), (A, B, T)), any integer dtype
        -> (*ids.shape, d_model) = token vectors + the vectors of positions 0 .. T - 1.

        Gradients reach the token table and (learned) the position table. ValueError naming T and
        max_len when T > max_len.
        """
        raise NotImplementedError('L02 InputEmbedding.forward() is not implemented yet: write it in exercises/l02/embeddings.py (stuck? run: llmfs hint L02)')


def rope_cache(head_dim: int, max_len: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the RoPE angles m * theta_i, theta_i = base^(-2i / head_dim): each (max_len, head_dim // 2).

    Row m holds the angles by which position m rotates each of the head_dim // 2 pairs of a query or key.
    Both in float32 (the default dtype), within float32 rounding of the exact values at every position,
    thousands included (in float32, m * theta_i is off by ~1e-3 at m = 10000). ValueError for an odd head_dim.

    >>> cos, sin = rope_cache(head_dim=8, max_len=16)
    >>> cos.shape, sin.shape
    (torch.Size([16, 4]), torch.Size([16, 4]))
    """
    raise NotImplementedError('L02 rope_cache() is not implemented yet: write it in exercises/l02/embeddings.py (stuck? run: llmfs hint L02)')


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each interleaved pair (x[..., 2i], x[..., 2i+1]) of the token at position t by angle t * theta_i.

    x: (..., T, head_dim), e.g. queries (B, n_head, T, head_dim); cos, sin: (max_len, head_dim // 2) from
    ``rope_cache`` (whatever its base) with max_len >= T (only the first T rows are used; ValueError naming T
    when max_len < T). Returns the same shape and dtype as x (a bfloat16 x gives bfloat16).
    As complex numbers, pair i becomes (x_2i + i x_2i+1) * e^(i t theta_i) (the RoFormer paper).

    >>> cos, sin = rope_cache(head_dim=4, max_len=8)
    >>> apply_rope(torch.ones(2, 5, 4), cos, sin).shape
    torch.Size([2, 5, 4])
    """
    raise NotImplementedError('L02 apply_rope() is not implemented yet: write it in exercises/l02/embeddings.py (stuck? run: llmfs hint L02)')
