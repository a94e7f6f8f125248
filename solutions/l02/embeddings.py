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
        ### BEGIN SOLUTION
        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            raise ValueError(f"token ids must be an integer tensor, got dtype {ids.dtype}")
        # int64 first: PyTorch reads a uint8 index as a mask, int16 or int8 cannot index at all, and in uint8
        # `ids >= 256` compares with 256 wrapped to 0.
        ids = ids.long()
        # Python-style indexing would silently wrap -1 to the last row: check the range explicitly.
        if ids.numel() > 0 and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"token ids must be in [0, {self.vocab_size}), got values from {ids.min().item()} to {ids.max().item()}"
            )
        return self.weight[ids]
        ### END SOLUTION


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
    ### BEGIN SOLUTION
    if d_model % 2 != 0:
        raise ValueError(f"d_model must be even (sin/cos pairs), got {d_model}")
    # float64 for the angles: p * frequency loses digits in float32 once p is in the thousands.
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)            # (max_len, 1)
    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d_model/2,)
    angles = position * inv_freq                                                  # (max_len, d_model/2)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe.to(torch.get_default_dtype())
    ### END SOLUTION


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
        ### BEGIN SOLUTION
        if not 0 <= seq_len <= self.max_len:
            raise ValueError(
                f"seq_len ({seq_len}) must be between 0 and max_len ({self.max_len}): "
                "there is no learned vector for later positions"
            )
        return self.weight[:seq_len]
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        seq_len = ids.size(-1)
        if seq_len > self.max_len:
            raise ValueError(f"sequence length {seq_len} is longer than the context: max_len is {self.max_len}")
        pos = self.pos(seq_len) if self.positional == "learned" else self.pos[:seq_len]
        return self.tok(ids) + pos  # (B, T, d) + (T, d): the same position vectors for every sequence
        ### END SOLUTION


def rope_cache(head_dim: int, max_len: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the RoPE angles m * theta_i, theta_i = base^(-2i / head_dim): each (max_len, head_dim // 2).

    Row m holds the angles by which position m rotates each of the head_dim // 2 pairs of a query or key.
    Both in float32 (the default dtype), within float32 rounding of the exact values at every position,
    thousands included (in float32, m * theta_i is off by ~1e-3 at m = 10000). ValueError for an odd head_dim.

    >>> cos, sin = rope_cache(head_dim=8, max_len=16)
    >>> cos.shape, sin.shape
    (torch.Size([16, 4]), torch.Size([16, 4]))
    """
    ### BEGIN SOLUTION
    if head_dim % 2 != 0:
        raise ValueError(f"head_dim must be even (RoPE rotates pairs), got {head_dim}")
    theta = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)  # (head_dim/2,)
    angles = torch.arange(max_len, dtype=torch.float64).unsqueeze(1) * theta           # (max_len, head_dim/2)
    dtype = torch.get_default_dtype()
    return angles.cos().to(dtype), angles.sin().to(dtype)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    seq_len = x.size(-2)
    if seq_len > cos.size(0):
        raise ValueError(f"sequence length {seq_len} is longer than the RoPE cache ({cos.size(0)} positions)")
    cos, sin = cos[:seq_len].to(x.dtype), sin[:seq_len].to(x.dtype)  # (T, head_dim/2), broadcast over leading dims
    x_even, x_odd = x[..., 0::2], x[..., 1::2]
    rotated = torch.stack((x_even * cos - x_odd * sin, x_even * sin + x_odd * cos), dim=-1)
    return rotated.flatten(-2)  # put each rotated pair back in its interleaved place
    ### END SOLUTION
