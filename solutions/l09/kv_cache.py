"""Lesson 9, part 2: the KV cache.

Generating token t + 1 by calling ``model(idx)`` recomputes every layer for all t previous tokens, which a
causal model has already computed: earlier positions never look at later ones, so their keys and values
do not change. The KV cache keeps each layer's keys and values and feeds the model only the new tokens:

    step 0 (prefill)   idx = the prompt (B, T0)   write K, V at positions 0..T0-1    attend over 0..T0-1
    step n             idx = one token  (B, 1)    write K, V at position  L          attend over 0..L

Per new token, attention costs O(L) instead of the O(L^2) of a full recomputation, and every Linear runs on
one position instead of L. The cache is allocated once, (n_layer, 2, B, n_head, max_len, head_dim): no
torch.cat per step. The logits must equal the full recomputation's at every step (to float tolerance).

A cached step on a small model is short, so what Python does around the arithmetic shows: reading
``block.attn.c_attn.weight`` is three ``nn.Module.__getattr__`` calls (about a microsecond each), and calling a
module costs a few more. ``GPTWeights.of(model)`` looks every parameter up once per generation, and
``forward_with_cache`` calls the functional ops (``F.linear``, ``F.layer_norm``) on those tensors: on the
course's checkpoint that makes generation about 1.4x faster than going through the modules.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..l04.multihead import merge_heads


class LayerWeights(NamedTuple):
    """One L07 block's parameters: the model's own tensors, not copies (a bias is None without config.bias)."""

    ln_1_weight: torch.Tensor  # (C,)
    ln_1_bias: torch.Tensor | None
    attn_weight: torch.Tensor  # attn.c_attn (3C, C): output columns [q | k | v]
    attn_bias: torch.Tensor | None
    attn_proj_weight: torch.Tensor  # attn.c_proj (C, C)
    attn_proj_bias: torch.Tensor | None
    ln_2_weight: torch.Tensor  # (C,)
    ln_2_bias: torch.Tensor | None
    fc_weight: torch.Tensor  # mlp.c_fc (4C, C)
    fc_bias: torch.Tensor | None
    mlp_proj_weight: torch.Tensor  # mlp.c_proj (C, 4C)
    mlp_proj_bias: torch.Tensor | None


class GPTWeights(NamedTuple):
    """An L07 GPT's parameters, looked up once for a whole generation (given: nothing to write here).

    The tensors are the model's own: an optimizer step or ``load_state_dict`` shows through, but moving the
    model to another device or dtype does not (look the weights up again after ``model.to(...)``).

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> weights = GPTWeights.of(GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)))
    >>> len(weights.layers), tuple(weights.wpe.shape), weights.n_head
    (2, (8, 8), 2)
    """

    wte: torch.Tensor  # (vocab, C) token embeddings
    wpe: torch.Tensor  # (block_size, C) position embeddings
    layers: tuple[LayerWeights, ...]
    ln_f_weight: torch.Tensor  # (C,)
    ln_f_bias: torch.Tensor | None
    lm_head: torch.Tensor  # (vocab, C), tied to wte in the L07 GPT
    n_head: int
    eps: float  # the LayerNorms' epsilon

    @classmethod
    def of(cls, model: nn.Module) -> GPTWeights:
        transformer = model.transformer
        layers = tuple(
            LayerWeights(
                block.ln_1.weight, block.ln_1.bias, block.attn.c_attn.weight, block.attn.c_attn.bias,
                block.attn.c_proj.weight, block.attn.c_proj.bias, block.ln_2.weight, block.ln_2.bias,
                block.mlp.c_fc.weight, block.mlp.c_fc.bias, block.mlp.c_proj.weight, block.mlp.c_proj.bias,
            )  # fmt: skip
            for block in transformer.h
        )
        return cls(
            transformer.wte.weight, transformer.wpe.weight, layers, transformer.ln_f.weight, transformer.ln_f.bias,
            model.lm_head.weight, model.config.n_head, transformer.ln_f.eps,
        )  # fmt: skip


class KVCache:
    """Keys and values of every layer, pre-allocated: ``data`` is (n_layer, 2, B, n_head, max_len, head_dim).

    ``data[layer, 0]`` holds keys, ``data[layer, 1]`` values; positions ``0 .. length - 1`` are filled.
    ``update(layer, k, v)`` writes the new positions of one layer; ``forward_with_cache`` advances ``length``
    once all layers have written.

    >>> cache = KVCache(n_layer=2, batch_size=1, n_head=4, max_len=16, head_dim=8)
    >>> cache.data.shape, cache.length
    (torch.Size([2, 2, 1, 4, 16, 8]), 0)
    """

    def __init__(
        self,
        n_layer: int,
        batch_size: int,
        n_head: int,
        max_len: int,
        head_dim: int,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ):
        self.max_len = max_len
        self.length = 0
        self.data = torch.zeros(n_layer, 2, batch_size, n_head, max_len, head_dim, dtype=dtype, device=device)

    @classmethod
    def for_model(cls, model: nn.Module, batch_size: int, max_len: int | None = None) -> KVCache:
        """An empty cache shaped for ``model`` (an L07 GPT); max_len defaults to its block_size."""
        config = model.config
        weight = model.transformer.wte.weight
        return cls(
            config.n_layer, batch_size, config.n_head, max_len or config.block_size, config.n_embd // config.n_head,
            dtype=weight.dtype, device=weight.device,
        )  # fmt: skip

    @property
    def batch_size(self) -> int:
        return self.data.shape[2]

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the keys and values of new positions, return every position so far.

        k, v: (B, n_head, T_new, head_dim), stored at positions ``length .. length + T_new - 1`` of ``layer``.
        Returns (keys, values), each (B, n_head, length + T_new, head_dim): views into ``data``, not copies.
        Does not advance ``length`` (all layers write at the same positions).
        """
        end = self.length + k.shape[-2]
        if end > self.max_len:
            raise ValueError(f"the cache holds {self.max_len} positions; {self.length} + {k.shape[-2]} do not fit")
        ### BEGIN SOLUTION
        keys, values = self.data[layer, 0], self.data[layer, 1]  # views (B, H, max_len, D): no copy
        keys[:, :, self.length : end] = k
        values[:, :, self.length : end] = v
        return keys[:, :, :end], values[:, :, :end]
        ### END SOLUTION

    def reorder(self, index: torch.Tensor) -> None:
        """Keep the batch rows ``index`` (int64 (B_new,), repeats allowed), in that order: beam search's step."""
        self.data = self.data.index_select(2, index)

    def reset(self) -> None:
        """Forget every position (the memory stays allocated)."""
        self.length = 0


def forward_with_cache(weights: GPTWeights, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run an L07 GPT on the NEW tokens only, attending over the cached past; return their logits.

    weights: ``GPTWeights.of(model)``, looked up once per generation. idx: (B, T_new) the tokens at positions
    ``cache.length .. cache.length + T_new - 1``. Computes what the model's blocks compute, with the functional
    ops on ``weights`` (``F.embedding``, ``F.layer_norm``, ``F.linear``, ``F.gelu(approximate="tanh")``,
    ``F.scaled_dot_product_attention``), writes each layer's keys and values into ``cache`` and advances
    ``cache.length`` by T_new. Inference only: no dropout.

    Returns logits (B, T_new, vocab) equal (to float tolerance) to ``model(all tokens so far)[0][:, -T_new:]``.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)).eval()
    >>> cache = KVCache.for_model(model, batch_size=1)
    >>> forward_with_cache(GPTWeights.of(model), torch.tensor([[1, 2, 3]]), cache).shape, cache.length
    (torch.Size([1, 3, 11]), 3)
    """
    T_new = idx.shape[1]
    if idx.shape[0] != cache.batch_size:
        raise ValueError(f"idx has batch size {idx.shape[0]}, the cache {cache.batch_size}")
    if cache.length + T_new > cache.max_len:
        raise ValueError(f"{cache.length} cached + {T_new} new positions exceed the cache's {cache.max_len}")
    ### BEGIN SOLUTION
    start = cache.length
    # The new tokens sit at positions start..start+T_new-1: their position embeddings, not 0..T_new-1.
    x = F.embedding(idx, weights.wte) + weights.wpe[start : start + T_new]  # (B, T_new, C)
    mask = None
    if T_new > 1:  # new query i (position start + i) sees every key up to position start + i
        mask = idx.new_ones(T_new, start + T_new, dtype=torch.bool).tril(diagonal=start)
    B, C = idx.shape[0], x.shape[-1]
    H, eps = weights.n_head, weights.eps
    for layer, w in enumerate(weights.layers):
        # c_attn's columns are [q | k | v], each split into heads: (B, T_new, 3, H, D) -> 3 x (B, H, T_new, D).
        qkv = F.linear(F.layer_norm(x, (C,), w.ln_1_weight, w.ln_1_bias, eps), w.attn_weight, w.attn_bias)
        q, k, v = qkv.view(B, T_new, 3, H, C // H).permute(2, 0, 3, 1, 4).unbind(0)
        keys, values = cache.update(layer, k, v)  # (B, H, start + T_new, D)
        y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        x = x + F.linear(merge_heads(y), w.attn_proj_weight, w.attn_proj_bias)
        h = F.gelu(F.linear(F.layer_norm(x, (C,), w.ln_2_weight, w.ln_2_bias, eps), w.fc_weight, w.fc_bias),
                   approximate="tanh")  # fmt: skip
        x = x + F.linear(h, w.mlp_proj_weight, w.mlp_proj_bias)
    cache.length = start + T_new
    return F.linear(F.layer_norm(x, (C,), weights.ln_f_weight, weights.ln_f_bias, eps), weights.lm_head)
    ### END SOLUTION
