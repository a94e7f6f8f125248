"""Lesson 9, part 2: the KV cache.

Generating token t + 1 by calling ``model(idx)`` recomputes every layer for all t previous tokens, which a
causal model has already computed: earlier positions never look at later ones, so their keys and values
do not change. The KV cache keeps each layer's keys and values and feeds the model only the new tokens:

    step 0 (prefill)   idx = the prompt (B, T0)   write K, V at positions 0..T0-1    attend over 0..T0-1
    step n             idx = one token  (B, 1)    write K, V at position  L          attend over 0..L

Per new token, attention costs O(L) instead of the O(L^2) of a full recomputation, and every Linear runs on
one position instead of L. The cache is allocated once, (n_layer, 2, B, n_head, max_len, head_dim): no
torch.cat per step. The logits must equal the full recomputation's at every step (to float tolerance).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..l04.multihead import merge_heads


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
        raise NotImplementedError('L09 KVCache.update() is not implemented yet: write it in exercises/l09/kv_cache.py (stuck? run: llmfs hint L09)')

    def reorder(self, index: torch.Tensor) -> None:
        """Keep the batch rows ``index`` (int64 (B_new,), repeats allowed), in that order: beam search's step."""
        self.data = self.data.index_select(2, index)

    def reset(self) -> None:
        """Forget every position (the memory stays allocated)."""
        self.length = 0


def forward_with_cache(model: nn.Module, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run an L07 GPT on the NEW tokens only, attending over the cached past; return their logits.

    idx: (B, T_new) the tokens at positions ``cache.length .. cache.length + T_new - 1``. Uses the model's own
    modules (``transformer.wte/wpe/h/ln_f``, each block's ``ln_1``, ``attn.c_attn``, ``attn.c_proj``,
    ``ln_2``, ``mlp``, and ``lm_head``), writes each layer's keys and values into ``cache`` and advances
    ``cache.length`` by T_new. Inference only: no dropout.

    Returns logits (B, T_new, vocab) equal (to float tolerance) to ``model(all tokens so far)[0][:, -T_new:]``.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)).eval()
    >>> cache = KVCache.for_model(model, batch_size=1)
    >>> forward_with_cache(model, torch.tensor([[1, 2, 3]]), cache).shape, cache.length
    (torch.Size([1, 3, 11]), 3)
    """
    T_new = idx.shape[1]
    if idx.shape[0] != cache.batch_size:
        raise ValueError(f"idx has batch size {idx.shape[0]}, the cache {cache.batch_size}")
    if cache.length + T_new > cache.max_len:
        raise ValueError(f"{cache.length} cached + {T_new} new positions exceed the cache's {cache.max_len}")
    raise NotImplementedError('L09 forward_with_cache() is not implemented yet: write it in exercises/l09/kv_cache.py (stuck? run: llmfs hint L09)')
