"""Lesson 4: multi-head attention.

Instead of one attention over d_model dimensions, run n_head attentions in parallel, each over
head_dim = d_model // n_head dimensions, and let an output projection mix what the heads found.
Each head can look for something different (the previous token, the subject of the sentence, ...),
at the same cost as one big head.

The layout is GPT-2's (and nanoGPT's): one fused linear layer ``c_attn`` computes q, k and v at once
(output columns [q | k | v]), the heads are carved out of them with a reshape, and ``c_proj`` is the
output projection. Those are the state-dict names of a GPT-2 checkpoint.
"""
from __future__ import annotations

import torch
from torch import nn

from ..l03.attention import scaled_dot_product_attention


def split_heads(x: torch.Tensor, n_head: int) -> torch.Tensor:
    """(B, T, C) -> (B, n_head, T, C // n_head): head h gets channels [h * D, (h + 1) * D).

    A view and a transpose are enough (no loop). The transpose puts the heads next to the batch so that
    attention, which works on the last two dims, sees one (T, D) sequence per (batch, head). Keeps the
    dtype. Raises ValueError naming C and n_head when n_head does not divide C.

    >>> split_heads(torch.zeros(2, 5, 12), n_head=3).shape
    torch.Size([2, 3, 5, 4])
    """
    raise NotImplementedError('L04 split_heads() is not implemented yet: write it in exercises/l04/multihead.py (stuck? run: llmfs hint L04)')


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, D) -> (B, T, H * D), the inverse of ``split_heads``: heads side by side again.

    >>> x = torch.randn(2, 5, 12)
    >>> torch.equal(merge_heads(split_heads(x, 3)), x)
    True
    """
    raise NotImplementedError('L04 merge_heads() is not implemented yet: write it in exercises/l04/multihead.py (stuck? run: llmfs hint L04)')


class MultiHeadAttention(nn.Module):
    """n_head attention heads in parallel, with a fused QKV projection and an output projection.

    Parameters (GPT-2 names): ``c_attn`` nn.Linear(d_model, 3 * d_model), output columns [q | k | v];
    ``c_proj`` nn.Linear(d_model, d_model); ``bias`` applies to both. Dropout (probability ``dropout``, 0 = off,
    only in train mode): ``attn_dropout`` on the attention weights, ``resid_dropout`` on the output of c_proj.

    >>> mha = MultiHeadAttention(d_model=12, n_head=3)
    >>> mha(torch.randn(2, 5, 12)).shape                 # (B, T, C) -> (B, T, C)
    torch.Size([2, 5, 12])
    """

    def __init__(self, d_model: int, n_head: int, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        if n_head <= 0 or d_model % n_head != 0:
            raise ValueError(f"d_model ({d_model}) must be a positive multiple of n_head ({n_head})")
        self.d_model = d_model
        self.n_head = n_head
        self.c_attn = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.c_proj = nn.Linear(d_model, d_model, bias=bias)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, return_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, C); mask: bool broadcastable to (B, n_head, T, T), True = may attend, e.g. (T, T),
        (B, 1, 1, T), (n_head, T, T) or (B, n_head, T, T); None = all.

        Returns (B, T, C), or (out, weights (B, n_head, T, T)) when ``return_weights`` is True: each head's
        attention weights, those that multiplied v (after attention dropout in train mode).
        """
        raise NotImplementedError('L04 MultiHeadAttention.forward() is not implemented yet: write it in exercises/l04/multihead.py (stuck? run: llmfs hint L04)')


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters of ``module`` (shared tensors count once).

    trainable_only: count only parameters with requires_grad=True.

    >>> count_parameters(nn.Linear(4, 3))                # 4 * 3 weights + 3 biases
    15
    """
    raise NotImplementedError('L04 count_parameters() is not implemented yet: write it in exercises/l04/multihead.py (stuck? run: llmfs hint L04)')
