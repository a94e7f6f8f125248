"""Lesson 5: normalization and residual connections.

Attention mixes tokens; the rest of a transformer block keeps a deep stack trainable:

    LayerNorm(x) = (x - mean) / sqrt(var + eps) * weight + bias      (per token, over the features)
    GELU(x)     ~= 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GPT-2's tanh approximation)
    MLP(x)       = c_proj(GELU(c_fc(x)))                              (d_model -> 4 d_model -> d_model)
    pre-norm:    x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))         (GPT-2, nanoGPT)
    post-norm:   x = ln_1(x + attn(x));  x = ln_2(x + mlp(x))         (the 2017 Transformer)

The residual stream ``x`` is a sum every sub-layer adds to; in a pre-norm block nothing but additions sits
on the path from the output back to the input, so gradients reach the first layer undamped.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..l04.multihead import MultiHeadAttention


class LayerNorm(nn.Module):
    """Layer normalization over the last dimension, from scratch (equals ``torch.nn.functional.layer_norm``).

    Each token's feature vector is shifted to mean 0 and scaled to variance 1, then a learned per-feature
    scale (``weight``, init 1) and shift (``bias``, init 0; None when bias=False) are applied.
    The variance is the *biased* one (divide by n, not n - 1), and eps sits *inside* the square root.

    x: (..., d_model) -> (..., d_model)

    >>> ln = LayerNorm(4)
    >>> ln(torch.tensor([[1.0, 2.0, 3.0, 4.0]])).detach().round(decimals=4)
    tensor([[-1.3416, -0.4472,  0.4472,  1.3416]])
    """

    def __init__(self, d_model: int, eps: float = 1e-5, bias: bool = True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError('L05 LayerNorm.forward() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')


def gelu(x: torch.Tensor) -> torch.Tensor:
    """GELU, tanh approximation (GPT-2's "gelu_new"); equals ``F.gelu(x, approximate="tanh")``.

    GELU(x) = x * Phi(x) weights each input by the probability that a standard normal is below it: a smooth
    ReLU. GPT-2 used the tanh approximation of Phi: 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    x: any shape -> same shape.

    >>> gelu(torch.tensor([-3.0, 0.0, 1.0, 3.0])).round(decimals=4)
    tensor([-0.0036,  0.0000,  0.8412,  2.9964])
    """
    raise NotImplementedError('L05 gelu() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')


class MLP(nn.Module):
    """The position-wise feed-forward network of GPT-2: expand, GELU, project back, dropout.

    d_model -> hidden (default 4 * d_model) -> d_model, applied to every token on its own.
    Sub-layers: ``c_fc`` nn.Linear(d_model, hidden), ``c_proj`` nn.Linear(hidden, d_model), ``dropout``.

    x: (B, T, d_model) -> (B, T, d_model)

    >>> MLP(8)(torch.randn(2, 3, 8)).shape
    torch.Size([2, 3, 8])
    """

    def __init__(self, d_model: int, hidden: int | None = None, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError('L05 MLP.__init__() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError('L05 MLP.forward() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')


class PreNormBlock(nn.Module):
    """A pre-norm transformer block (GPT-2): normalize *before* each sub-layer, add its output to the stream.

        x = x + attn(ln_1(x), mask)
        x = x + mlp(ln_2(x))

    Sub-layers ``ln_1``, ``attn`` (default: L04's MultiHeadAttention(d_model, n_head, bias, dropout)),
    ``ln_2``, ``mlp`` (default: MLP(d_model, bias=bias, dropout=dropout)). Pass ``attn`` to use another
    attention module with the same call signature (L06's causal attention), ``mlp`` another MLP, and
    ``norm`` another LayerNorm class (L07 passes ones that run PyTorch's fused kernels).

    x: (B, T, d_model), mask: bool (True = may attend) or None -> (B, T, d_model)

    >>> PreNormBlock(d_model=8, n_head=2)(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        d_model: int,
        n_head: int,
        dropout: float = 0.0,
        bias: bool = True,
        attn: nn.Module | None = None,
        mlp: nn.Module | None = None,
        norm: type[nn.Module] = LayerNorm,
    ):
        super().__init__()
        self.ln_1 = norm(d_model, bias=bias)
        self.attn = MultiHeadAttention(d_model, n_head, bias=bias, dropout=dropout) if attn is None else attn
        self.ln_2 = norm(d_model, bias=bias)
        self.mlp = MLP(d_model, bias=bias, dropout=dropout) if mlp is None else mlp

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError('L05 PreNormBlock.forward() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')


class PostNormBlock(PreNormBlock):
    """A post-norm block (the original 2017 Transformer): add first, normalize the sum.

        x = ln_1(x + attn(x, mask))
        x = ln_2(x + mlp(x))

    Same sub-layers and constructor as PreNormBlock; only the order differs. Every residual path now
    passes through a LayerNorm, which is what makes deep post-norm stacks hard to train without warm-up.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError('L05 PostNormBlock.forward() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')


def first_layer_grad_norm(
    block_cls: type[nn.Module],
    depth: int,
    d_model: int = 64,
    n_head: int = 4,
    seq_len: int = 16,
    batch: int = 4,
    seed: int = 0,
    layer: int = 0,
) -> float:
    """The gradient norm that reaches one block (default: the first) of a freshly built deep stack.

    Under ``torch.manual_seed(seed)``, builds ``depth`` blocks ``block_cls(d_model, n_head)`` (PreNormBlock or
    PostNormBlock, PyTorch's default initialisation), then draws x = torch.randn(batch, seq_len, d_model) and
    then target = torch.randn(batch, seq_len, d_model). Runs x through the blocks and a final LayerNorm
    without parameters (``F.layer_norm``, GPT's ``ln_f``; without it a pre-norm stack's output just grows with
    depth), takes the loss mean((out - target)^2), and returns the L2 norm of the gradients of all the
    parameters of block ``layer`` together (0 = the first, -1 = the last): sqrt of the sum of their squares,
    as a Python float. Seeded: the same arguments give the same number, and the global RNG is left as it was.

    >>> first_layer_grad_norm(PreNormBlock, depth=2) > 0
    True
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if not -depth <= layer < depth:
        raise ValueError(f"layer must index one of the {depth} blocks, got {layer}")
    raise NotImplementedError('L05 first_layer_grad_norm() is not implemented yet: write it in exercises/l05/norm.py (stuck? run: llmfs hint L05)')


def main() -> None:
    """Print the lesson's table: gradient norms at the first and last block, pre-norm versus post-norm.

    Run: python -m exercises.l05.norm   (each figure is the mean over seeds 0, 1, 2)
    """
    def mean_norm(block_cls: type[nn.Module], depth: int, layer: int) -> float:
        return sum(first_layer_grad_norm(block_cls, depth, seed=s, layer=layer) for s in range(3)) / 3

    print("| depth | pre-norm, first block | pre-norm, last block | post-norm, first block | post-norm, last block |")
    print("|---:|---:|---:|---:|---:|")
    for depth in (1, 6, 12, 24, 48):
        row = [mean_norm(cls, depth, layer) for cls in (PreNormBlock, PostNormBlock) for layer in (0, -1)]
        print(f"| {depth} | " + " | ".join(f"{value:.3f}" for value in row) + " |")


if __name__ == "__main__":
    main()
