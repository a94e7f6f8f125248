"""Specs for lesson 5: LayerNorm, GELU, the MLP, pre-norm and post-norm blocks, and gradients in deep stacks.

Oracles: ``F.layer_norm``, ``F.gelu(approximate="tanh")`` and ``nn.TransformerEncoderLayer`` (which has both
block orders: ``norm_first=True`` is pre-norm, ``False`` is post-norm).
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from .norm import MLP, LayerNorm, PostNormBlock, PreNormBlock, first_layer_grad_norm, gelu


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randomize(module: nn.Module, seed: int) -> nn.Module:
    """Give every parameter random values (init 1/0 would hide a swapped weight and bias)."""
    g = _gen(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    return module


# --- Stage 1: LayerNorm ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 16), (4, 1, 7)])
def test_layernorm_matches_torch(shape):
    d = shape[-1]
    x = torch.randn(shape, generator=_gen(1)) * 3 + 2
    ln = LayerNorm(d)
    assert tuple(ln.weight.shape) == (d,) and tuple(ln.bias.shape) == (d,), (
        f"LayerNorm({d}) should have weight and bias of shape ({d},), got {tuple(ln.weight.shape)} "
        f"and {tuple(ln.bias.shape)}"
    )
    assert torch.equal(ln.weight.data, torch.ones(d)) and torch.equal(ln.bias.data, torch.zeros(d)), (
        "LayerNorm should start as the identity scale and shift: weight = ones, bias = zeros"
    )
    got = ln(x)
    want = F.layer_norm(x, (d,), ln.weight, ln.bias, eps=1e-5)
    assert got.shape == x.shape, f"LayerNorm changed the shape: {tuple(x.shape)} -> {tuple(got.shape)}"
    assert torch.allclose(got, want, atol=1e-5), (
        f"LayerNorm differs from F.layer_norm by {(got - want).abs().max():.2e} at the initial weight/bias: "
        "normalize over the LAST dimension only (mean and variance per token, keepdim=True)"
    )
    _randomize(ln, seed=2)
    got, want = ln(x), F.layer_norm(x, (d,), ln.weight, ln.bias, eps=1e-5)
    assert torch.allclose(got, want, atol=1e-5), (
        f"with random weight and bias LayerNorm differs from F.layer_norm by {(got - want).abs().max():.2e}: "
        "out = x_hat * weight + bias (scale, then shift)"
    )


def test_layernorm_biased_variance():
    x = torch.tensor([[0.0, 2.0], [1.0, 5.0]])  # two features: biased variance 1 and 4
    got = LayerNorm(2, eps=0.0)(x).detach()
    want = torch.tensor([[-1.0, 1.0], [-1.0, 1.0]])
    assert torch.allclose(got, want, atol=1e-6), (
        f"LayerNorm(2, eps=0) of [[0, 2], [1, 5]] gave {got.tolist()}, expected {want.tolist()}: "
        + (
            "you divide by n - 1 (unbiased variance); LayerNorm uses the biased variance, mean((x - mean)^2)"
            if torch.allclose(got.abs(), torch.full_like(got, 1 / math.sqrt(2)), atol=1e-4)
            else "subtract the mean, divide by sqrt(biased variance + eps)"
        )
    )


def test_layernorm_eps_inside_sqrt():
    x = torch.randn(6, 32, generator=_gen(3)) * 1e-3  # variance ~1e-6, smaller than eps: eps matters
    for eps in (1e-5, 0.1):
        ln = LayerNorm(32, eps=eps)
        got, want = ln(x), F.layer_norm(x, (32,), ln.weight, ln.bias, eps=eps)
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-6), (
            f"on inputs with tiny variance (~1e-6), LayerNorm(eps={eps}) differs from F.layer_norm by "
            f"{(got - want).abs().max():.2e}: eps belongs INSIDE the square root, (x - mean) / sqrt(var + eps); "
            "and use the eps given to the constructor"
        )
    constant = torch.full((2, 8), 3.0)
    out = LayerNorm(8)(constant)
    assert torch.isfinite(out).all() and torch.allclose(out, torch.zeros_like(out)), (
        f"a constant row (variance 0) should normalize to zeros, got {out[0].tolist()}: eps inside the sqrt "
        "is what keeps this from dividing by zero"
    )


def test_layernorm_without_bias():
    ln = _randomize(LayerNorm(16, bias=False), seed=4)
    assert ln.bias is None, "LayerNorm(bias=False) should set self.bias = None (GPT configs with bias=False)"
    x = torch.randn(3, 5, 16, generator=_gen(5))
    got, want = ln(x), F.layer_norm(x, (16,), ln.weight, None)
    assert torch.allclose(got, want, atol=1e-5), (
        f"LayerNorm(bias=False) differs from F.layer_norm(weight only) by {(got - want).abs().max():.2e}"
    )


def test_layernorm_gradients():
    ln = _randomize(LayerNorm(12), seed=6).double()
    x = torch.randn(4, 3, 12, generator=_gen(7), dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(4, 3, 12, generator=_gen(8), dtype=torch.float64)
    got = torch.autograd.grad((ln(x) * upstream).sum(), (x, ln.weight, ln.bias))
    want = torch.autograd.grad(
        (F.layer_norm(x, (12,), ln.weight, ln.bias) * upstream).sum(), (x, ln.weight, ln.bias)
    )
    for name, g, w in zip(("x", "weight", "bias"), got, want):
        assert torch.allclose(g, w, atol=1e-10), (
            f"the gradient with respect to {name} differs from F.layer_norm's by {(g - w).abs().max():.2e} "
            "(float64): build LayerNorm from differentiable tensor ops, no .detach() or .item()"
        )


# --- Stage 2: GELU -----------------------------------------------------------------------------------


def test_gelu_matches_torch_tanh():
    x = torch.cat([torch.linspace(-8, 8, 401, dtype=torch.float64), torch.randn(1000, generator=_gen(9)).double()])
    got = gelu(x)
    want = F.gelu(x, approximate="tanh")
    if not torch.allclose(got, want, atol=1e-12):
        if torch.allclose(got, F.gelu(x), atol=1e-12):
            hint = "that is the exact (erf) GELU; GPT-2 uses the tanh approximation"
        elif torch.allclose(got, F.relu(x), atol=1e-12):
            hint = "that is ReLU"
        else:
            hint = "0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x ** 3)))"
        raise AssertionError(
            f"gelu differs from F.gelu(x, approximate='tanh') by {(got - want).abs().max():.2e} (float64): {hint}"
        )
    assert got.shape == x.shape and got.dtype == x.dtype, "gelu must keep the shape and dtype of its input"


def test_gelu_values():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0, 20.0, -20.0])
    got = gelu(x)
    want = torch.tensor([-0.0036374, -0.1588080, 0.0, 0.8411920, 2.9963627, 20.0, 0.0])
    assert torch.allclose(got, want, atol=1e-5), (
        f"gelu({x.tolist()}) gave {[round(v, 6) for v in got.tolist()]}, expected {want.tolist()}: "
        "large positive x should pass through, large negative x should go to 0, gelu(0) = 0"
    )


# --- Stage 3: the MLP --------------------------------------------------------------------------------


def test_mlp_layers():
    mlp = MLP(8)
    assert isinstance(mlp.c_fc, nn.Linear) and isinstance(mlp.c_proj, nn.Linear), (
        "MLP needs two nn.Linear layers named c_fc and c_proj (GPT-2's names)"
    )
    assert tuple(mlp.c_fc.weight.shape) == (32, 8) and tuple(mlp.c_proj.weight.shape) == (8, 32), (
        f"MLP(8) should expand 8 -> 32 -> 8 (hidden defaults to 4 * d_model); got c_fc "
        f"{tuple(mlp.c_fc.weight.shape)}, c_proj {tuple(mlp.c_proj.weight.shape)} (nn.Linear weights are (out, in))"
    )
    custom = MLP(8, hidden=20, bias=False, dropout=0.25)
    assert tuple(custom.c_fc.weight.shape) == (20, 8), "MLP(8, hidden=20) should use the given hidden width"
    assert custom.c_fc.bias is None and custom.c_proj.bias is None, "MLP(bias=False) should make both Linears bias-free"
    assert isinstance(custom.dropout, nn.Dropout) and custom.dropout.p == 0.25, (
        "MLP(dropout=0.25) should hold an nn.Dropout(0.25) named dropout"
    )


def test_mlp_forward():
    mlp = _randomize(MLP(8, hidden=24), seed=10).eval()
    x = torch.randn(2, 5, 8, generator=_gen(11))
    got = mlp(x)
    hidden = F.linear(x, mlp.c_fc.weight, mlp.c_fc.bias)
    want = F.linear(F.gelu(hidden, approximate="tanh"), mlp.c_proj.weight, mlp.c_proj.bias)
    assert got.shape == (2, 5, 8), f"MLP output should have the input's shape (2, 5, 8), got {tuple(got.shape)}"
    assert torch.allclose(got, want, atol=1e-5), (
        f"MLP(x) differs from c_proj(gelu(c_fc(x))) by {(got - want).abs().max():.2e}: "
        "expand with c_fc, apply YOUR gelu, project back with c_proj"
    )


def test_mlp_dropout_after_projection():
    torch.manual_seed(0)
    mlp = _randomize(MLP(16, dropout=0.5), seed=12)
    x = torch.randn(4, 8, 16, generator=_gen(13))
    clean = mlp.eval()(x)
    noisy = mlp.train()(x)
    dropped = noisy == 0
    assert 0.3 < dropped.float().mean() < 0.7, (
        f"in training mode with dropout=0.5 about half of the MLP's OUTPUTS should be exactly 0, got "
        f"{dropped.float().mean():.2f}: dropout goes last, after c_proj (GPT-2's residual dropout)"
    )
    assert torch.allclose(noisy[~dropped], clean[~dropped] * 2, atol=1e-5), (
        "the outputs that survive dropout should equal the eval-mode output scaled by 1 / (1 - p)"
    )


# --- Stage 4: the pre-norm block and the residual stream ---------------------------------------------


def _torch_block(block: nn.Module, norm_first: bool) -> nn.TransformerEncoderLayer:
    """PyTorch's encoder layer with the same weights as ``block`` (its in_proj is the fused [q | k | v])."""
    d = block.ln_1.weight.numel()
    ref = nn.TransformerEncoderLayer(
        d, block.attn.n_head, dim_feedforward=block.mlp.c_fc.out_features, dropout=0.0,
        activation=lambda t: F.gelu(t, approximate="tanh"), layer_norm_eps=1e-5, batch_first=True,
        norm_first=norm_first,
    )
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(block.attn.c_attn.weight)
        ref.self_attn.in_proj_bias.copy_(block.attn.c_attn.bias)
        ref.self_attn.out_proj.weight.copy_(block.attn.c_proj.weight)
        ref.self_attn.out_proj.bias.copy_(block.attn.c_proj.bias)
        ref.linear1.weight.copy_(block.mlp.c_fc.weight)
        ref.linear1.bias.copy_(block.mlp.c_fc.bias)
        ref.linear2.weight.copy_(block.mlp.c_proj.weight)
        ref.linear2.bias.copy_(block.mlp.c_proj.bias)
        for ours, theirs in ((block.ln_1, ref.norm1), (block.ln_2, ref.norm2)):
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
    return ref.eval()


def _check_block(block_cls, norm_first: bool, order: str):
    block = _randomize(block_cls(d_model=16, n_head=4), seed=14).eval()
    ref = _torch_block(block, norm_first)
    x = torch.randn(3, 6, 16, generator=_gen(15))
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    for mask in (None, causal):
        got = block(x, mask)
        # PyTorch's attention masks say True = "may NOT attend": the opposite of ours.
        want = ref(x, src_mask=None if mask is None else ~mask)
        assert got.shape == x.shape, f"{block_cls.__name__} changed the shape {tuple(x.shape)} -> {tuple(got.shape)}"
        assert torch.allclose(got, want, atol=1e-5), (
            f"{block_cls.__name__} (mask={'causal' if mask is not None else None}) differs from "
            f"nn.TransformerEncoderLayer(norm_first={norm_first}) by {(got - want).abs().max():.2e}: {order}"
        )


def test_prenorm_block_matches_torch():
    _check_block(
        PreNormBlock, True,
        "expected x = x + attn(ln_1(x), mask); x = x + mlp(ln_2(x)): normalize the sub-layer's INPUT, "
        "add its output to the un-normalized stream, and pass the mask on to attn",
    )


def test_prenorm_residual_is_identity_path():
    block = _randomize(PreNormBlock(d_model=16, n_head=4), seed=16)
    with torch.no_grad():  # silence both sub-layers: only the residual stream is left
        for proj in (block.attn.c_proj, block.mlp.c_proj):
            proj.weight.zero_()
            proj.bias.zero_()
    x = torch.randn(2, 5, 16, generator=_gen(17))
    got = block(x)
    assert torch.equal(got, x), (
        f"with both c_proj layers zeroed a pre-norm block must return x unchanged (off by "
        f"{(got - x).abs().max():.2e}): each sub-layer's output is ADDED to x, and x itself is never normalized"
    )


def test_block_uses_given_attention():
    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x, mask=None):
            self.calls.append((x.detach().clone(), mask))
            return torch.zeros_like(x)

    recorder = Recorder()
    block = PreNormBlock(d_model=8, n_head=2, attn=recorder)
    assert block.attn is recorder, "PreNormBlock(attn=module) should use that module as self.attn"
    x = torch.randn(2, 4, 8, generator=_gen(18)) * 5 + 1
    mask = torch.ones(4, 4, dtype=torch.bool).tril()
    block(x, mask)
    assert len(recorder.calls) == 1, f"the block should call attn once per forward, called {len(recorder.calls)}"
    seen, seen_mask = recorder.calls[0]
    assert seen_mask is mask, "the block should pass its mask on to attn: attn(ln_1(x), mask)"
    assert torch.allclose(seen, F.layer_norm(x, (8,)), atol=1e-5), (
        "attn should receive ln_1(x), the NORMALIZED stream (pre-norm), not x itself"
    )


# --- Stage 5: the post-norm block --------------------------------------------------------------------


def test_postnorm_block_matches_torch():
    _check_block(
        PostNormBlock, False,
        "expected x = ln_1(x + attn(x, mask)); x = ln_2(x + mlp(x)): add first, then normalize the sum",
    )


# --- Stage 6: gradients in deep stacks ---------------------------------------------------------------


def test_grad_norm_is_seeded():
    a = first_layer_grad_norm(PreNormBlock, depth=3, seed=5)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    b = first_layer_grad_norm(PreNormBlock, depth=3, seed=5)
    after = torch.rand(1)
    c = first_layer_grad_norm(PreNormBlock, depth=3, seed=6)
    assert isinstance(a, float) and math.isfinite(a) and a > 0, f"expected a positive finite float, got {a!r}"
    assert a == b, f"the same arguments gave {a} and then {b}: seed the stack, input and target from `seed`"
    assert a != c, "seed=5 and seed=6 gave the same number: build the stack, input and target from the seed"
    assert torch.equal(before, after), (
        "first_layer_grad_norm changed the caller's global RNG state: use torch.random.fork_rng() around "
        "the seeded part"
    )
    with pytest.raises(ValueError):
        first_layer_grad_norm(PreNormBlock, depth=0)


def test_prenorm_gradients_reach_the_bottom():
    seeds = range(2)
    first = sum(first_layer_grad_norm(PreNormBlock, 24, seed=s) for s in seeds)
    last = sum(first_layer_grad_norm(PreNormBlock, 24, seed=s, layer=-1) for s in seeds)
    shallow = sum(first_layer_grad_norm(PreNormBlock, 1, seed=s) for s in seeds)
    assert first > 1.1 * last, (
        f"in a 24-block pre-norm stack the first block's gradient ({first / 2:.3f}) should exceed the last "
        f"block's ({last / 2:.3f}): the residual path carries the gradient down undamped"
    )
    assert last < 0.85 * shallow, (
        f"in a pre-norm stack the last block's gradient should shrink with depth (1 block: {shallow / 2:.3f}, "
        f"24 blocks: {last / 2:.3f}): is `layer` selecting the right block, and is the output normalized?"
    )


def test_postnorm_gradients_pile_up_at_the_top():
    seeds = range(2)
    first = sum(first_layer_grad_norm(PostNormBlock, 24, seed=s) for s in seeds)
    last = sum(first_layer_grad_norm(PostNormBlock, 24, seed=s, layer=-1) for s in seeds)
    assert last > first, (
        f"in a 24-block post-norm stack the last block should get the largest gradient (first "
        f"{first / 2:.3f}, last {last / 2:.3f}): every LayerNorm on the residual path rescales the gradient"
    )
