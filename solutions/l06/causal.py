"""Lesson 6: the causal mask.

A language model predicts token t + 1 from tokens 0..t. If position t could attend to later tokens,
training would be trivial (copy the answer) and generation impossible (the future is not there yet).
The causal mask removes the future: query t may attend to key s only when s <= t.

    mask[t, s] = (s <= t)                  lower triangle, diagonal included (a token sees itself)
    scores[~mask] = -inf  ->  softmax gives those keys weight exactly 0

Masks are boolean, True = "may attend", as in ``torch.nn.functional.scaled_dot_product_attention``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..l04.multihead import MultiHeadAttention, merge_heads, split_heads


def causal_mask(seq_len: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """The (seq_len, seq_len) bool mask with True on and below the diagonal: query t sees keys 0..t.

    >>> causal_mask(3)
    tensor([[ True, False, False],
            [ True,  True, False],
            [ True,  True,  True]])
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    ### BEGIN SOLUTION
    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()
    ### END SOLUTION


def causal_mask_like(x: torch.Tensor) -> torch.Tensor:
    """The causal mask for a sequence x (..., T, C): (T, T), on x's device.

    >>> causal_mask_like(torch.zeros(2, 4, 8)).shape
    torch.Size([4, 4])
    """
    ### BEGIN SOLUTION
    return causal_mask(x.shape[-2], device=x.device)
    ### END SOLUTION


def combine_masks(causal: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
    """Combine a causal mask (T, T) with a padding mask (B, T) into one mask (B, 1, T, T).

    padding[b, s] is True where token s of sequence b is real, False where it is padding. A query may
    attend to a key when the key is in its past AND the key is real: the padding mask acts on the KEY
    axis (the last one). The 1 broadcasts over the heads. A query whose keys are all padding (a padded
    position at the start of a left-padded sequence) gets a row of False; attention turns such a row
    into zeros, not NaN (L03's softmax).

    >>> combine_masks(causal_mask(3), torch.tensor([[False, True, True]]))[0, 0]
    tensor([[False, False, False],
            [False,  True, False],
            [False,  True,  True]])
    """
    if padding.dtype != torch.bool or padding.dim() != 2:
        raise ValueError(f"padding must be a bool (B, T) tensor, got {padding.dtype} {tuple(padding.shape)}")
    if causal.shape != (padding.shape[1], padding.shape[1]):
        raise ValueError(f"causal mask {tuple(causal.shape)} does not match padding (B, T) = {tuple(padding.shape)}")
    ### BEGIN SOLUTION
    return causal[None, None, :, :] & padding[:, None, None, :]
    ### END SOLUTION


class CausalSelfAttention(MultiHeadAttention):
    """Multi-head self-attention in which every position sees only itself and the past (GPT's attention).

    A subclass of L04's MultiHeadAttention, so the parameters keep GPT-2's names (``c_attn``, ``c_proj``).
    The mask for the longest sequence, (1, 1, block_size, block_size), is built once and kept as a
    **non-persistent buffer** ``mask``: it moves with ``.to(device)`` like a parameter, but it is not saved
    in the state dict (it is not learned, and checkpoints stay loadable whatever block_size). A forward
    pass uses its top-left (T, T) corner.

    use_sdpa=True runs PyTorch's fused ``F.scaled_dot_product_attention(..., is_causal=True)``: the same
    numbers, much faster, never materialising the (T, T) weights. The hand-written path (L03's attention
    with the buffer) is the reference it must equal.

    x: (B, T, C) with T <= block_size; padding_mask: bool (B, T), True = real token, or None.
    Returns (B, T, C), or (out, weights (B, n_head, T, T)) when ``return_weights`` is True.

    >>> attn = CausalSelfAttention(d_model=8, n_head=2, block_size=16)
    >>> attn(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(
        self, d_model: int, n_head: int, block_size: int, bias: bool = True, dropout: float = 0.0,
        use_sdpa: bool = False,
    ):
        super().__init__(d_model, n_head, bias=bias, dropout=dropout)
        self.block_size = block_size
        self.use_sdpa = use_sdpa
        ### BEGIN SOLUTION
        # persistent=False: a buffer (follows .to() and .cuda()) that state_dict() leaves out.
        self.register_buffer("mask", causal_mask(block_size).view(1, 1, block_size, block_size), persistent=False)
        ### END SOLUTION

    def forward(
        self, x: torch.Tensor, padding_mask: torch.Tensor | None = None, return_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        T = x.shape[1]
        if T > self.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.block_size}")
        ### BEGIN SOLUTION
        mask = self.mask[:, :, :T, :T]  # the cached mask: no per-step building
        if padding_mask is not None:
            mask = combine_masks(mask[0, 0], padding_mask)
        if return_weights or not self.use_sdpa:
            return super().forward(x, mask, return_weights)  # L04's attention, with the mask
        q, k, v = (split_heads(t, self.n_head) for t in self.c_attn(x).split(self.d_model, dim=-1))
        y = F.scaled_dot_product_attention(
            q, k, v,
            attn_mask=None if padding_mask is None else mask,
            dropout_p=self.attn_dropout.p if self.training else 0.0,
            is_causal=padding_mask is None,  # the fused kernel applies the causal mask itself
        )
        return self.resid_dropout(self.c_proj(merge_heads(y)))
        ### END SOLUTION
