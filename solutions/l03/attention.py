"""Lesson 3: self-attention.

Every token asks a question (its query), every token advertises what it holds (its key) and what it
would hand over (its value). A token's output is the average of all values, weighted by how well its
query matches each key:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Masks are boolean, True = "may attend", as in ``torch.nn.functional.scaled_dot_product_attention``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Numerically stable softmax along ``dim``: exp(x - max) / sum(exp(x - max)).

    Subtracting the max changes nothing mathematically (it cancels in the ratio) but keeps exp() from
    overflowing: the largest exponent becomes exp(0) = 1, for logits of any size. A slice that is entirely
    -inf (a query that may attend to nothing) gives zeros, not NaN, and sends back zero gradient, not NaN.

    x: floating point (float64, float32, bfloat16), one or more dims, not empty along ``dim``. Returns a
    tensor of the same shape and dtype whose slices along ``dim`` sum to 1 (or are all zero), equal to
    ``torch.softmax`` elsewhere, gradients included.

    >>> softmax(torch.tensor([1000.0, 1000.0]))
    tensor([0.5000, 0.5000])
    """
    ### BEGIN SOLUTION
    x_max = x.amax(dim=dim, keepdim=True)
    # An all -inf slice has max -inf, and -inf - (-inf) is NaN: shift such slices by 0 instead.
    x_max = torch.where(torch.isneginf(x_max), torch.zeros_like(x_max), x_max)
    exps = torch.exp(x - x_max)
    total = exps.sum(dim=dim, keepdim=True)
    # The total is >= 1 wherever some entry is finite (the max contributes exp(0) = 1); it is 0 only for
    # all -inf slices, whose exps are all 0: divide those by 1 so they stay 0.
    return exps / torch.where(total == 0, torch.ones_like(total), total)
    ### END SOLUTION


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v, returning the output and the attention weights.

    q: (..., T_q, d_k)   k: (..., T_k, d_k)   v: (..., T_k, d_v), where ... is any number of leading dims
    (none included); float32 or float64, and out and weights have that dtype.
    mask: bool, broadcastable to (..., T_q, T_k), e.g. (T_q, T_k), (B, 1, 1, T_k), (B, H, T_q, T_k);
    True = the query may attend to that key. None = all.
    dropout_p, training: only when ``training`` is True, each weight (after the softmax) is zeroed with
    probability ``dropout_p``, independently, and the others are divided by 1 - dropout_p (F.dropout).
    Returns (out (..., T_q, d_v), weights (..., T_q, T_k)): the weights that multiplied v (after dropout);
    without dropout each row sums to 1 (0 for a query that may attend to nothing).

    >>> q = k = v = torch.eye(2).unsqueeze(0)            # (1, 2, 2)
    >>> out, w = scaled_dot_product_attention(q, k, v)
    >>> w.shape, out.shape
    (torch.Size([1, 2, 2]), torch.Size([1, 2, 2]))
    """
    if mask is not None and mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor (True = may attend), got dtype {mask.dtype}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p}")
    ### BEGIN SOLUTION
    d_k = q.size(-1)
    # Dividing by sqrt(d_k) keeps the scores at unit variance whatever d_k is, so softmax does not saturate.
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = softmax(scores, dim=-1)
    weights = F.dropout(weights, p=dropout_p, training=training)
    return weights @ v, weights
    ### END SOLUTION


class SelfAttention(nn.Module):
    """One attention head: project x to queries, keys and values, then attend.

    d_model: width of the input; d_head: width of q, k, v and of the output (defaults to d_model).
    Parameters: ``query``, ``key``, ``value``, each nn.Linear(d_model, d_head, bias=bias).

    >>> head = SelfAttention(d_model=8, d_head=4)
    >>> head(torch.randn(2, 5, 8)).shape                 # (B, T, d_model) -> (B, T, d_head)
    torch.Size([2, 5, 4])
    """

    def __init__(self, d_model: int, d_head: int | None = None, bias: bool = True):
        super().__init__()
        self.d_model = d_model
        self.d_head = d_model if d_head is None else d_head
        self.query = nn.Linear(d_model, self.d_head, bias=bias)
        self.key = nn.Linear(d_model, self.d_head, bias=bias)
        self.value = nn.Linear(d_model, self.d_head, bias=bias)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, return_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, d_model); mask: bool broadcastable to (B, T, T), e.g. (T, T), (B, 1, T) or (B, T, T), or None.

        Returns out (B, T, d_head), or (out, weights (B, T, T)) when ``return_weights`` is True.
        """
        ### BEGIN SOLUTION
        q, k, v = self.query(x), self.key(x), self.value(x)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        return (out, weights) if return_weights else out
        ### END SOLUTION
