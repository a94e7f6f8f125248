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


DT = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed: int = 0, dtype: torch.dtype = DT) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=dtype)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def _load(module: nn.Module, state: dict, what: str) -> nn.Module:
    """Load known weights by their documented state-dict names (the oracle uses the same tensors, never the module's)."""
    names = set(module.state_dict())
    assert names == set(state), (
        f"{what} has state dict {sorted(names)}, expected {sorted(state)}: keep the documented sub-layer names, "
        "and make no bias parameter at all where bias=False"
    )
    module.load_state_dict(state)
    return module


def _ln_state(d: int, bias: bool = True, seed: int = 0, dtype: torch.dtype = DT) -> dict:
    """Random weight and bias (init 1/0 would hide a swapped or missing weight and bias)."""
    g = _gen(seed)
    state = {"weight": 1 + 0.5 * torch.randn(d, generator=g, dtype=dtype)}
    if bias:
        state["bias"] = torch.randn(d, generator=g, dtype=dtype)
    return state


# --- Stage 1: LayerNorm ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 16), (4, 1, 7)])
def test_layernorm_matches_torch(shape):
    d = shape[-1]
    x = torch.randn(shape, generator=_gen(1)) * 3 + 2
    ln = LayerNorm(d)
    state = ln.state_dict()
    assert set(state) == {"weight", "bias"}, f"LayerNorm({d}) should have parameters weight and bias, got {sorted(state)}"
    assert tuple(state["weight"].shape) == (d,) and tuple(state["bias"].shape) == (d,), (
        f"LayerNorm({d}) should have weight and bias of shape ({d},), got {tuple(state['weight'].shape)} "
        f"and {tuple(state['bias'].shape)}"
    )
    assert torch.equal(state["weight"], torch.ones(d)) and torch.equal(state["bias"], torch.zeros(d)), (
        "LayerNorm should start as the identity scale and shift: weight = ones, bias = zeros"
    )
    got = ln(x)
    want = F.layer_norm(x, (d,), eps=1e-5)
    assert got.shape == x.shape, f"LayerNorm changed the shape: {tuple(x.shape)} -> {tuple(got.shape)}"
    assert torch.allclose(got, want, atol=1e-5), (
        f"LayerNorm differs from F.layer_norm by {(got - want).abs().max():.2e} at the initial weight/bias: "
        "normalize over the LAST dimension only (mean and variance per token, keepdim=True)"
    )
    known = _ln_state(d, seed=2, dtype=torch.float32)
    _load(ln, known, f"LayerNorm({d})")
    got, want = ln(x), F.layer_norm(x, (d,), known["weight"], known["bias"], eps=1e-5)
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
        got, want = ln(x), F.layer_norm(x, (32,), eps=eps)
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
    known = _ln_state(16, bias=False, seed=4, dtype=torch.float32)
    ln = LayerNorm(16, bias=False)
    assert ln.bias is None, "LayerNorm(bias=False) should set self.bias = None (GPT configs with bias=False)"
    _load(ln, known, "LayerNorm(16, bias=False)")
    x = torch.randn(3, 5, 16, generator=_gen(5))
    got, want = ln(x), F.layer_norm(x, (16,), known["weight"], None)
    assert torch.allclose(got, want, atol=1e-5), (
        f"LayerNorm(bias=False) differs from F.layer_norm(weight only) by {(got - want).abs().max():.2e}"
    )


def test_layernorm_any_shape_dtype_and_offset():
    """Property: 1-D to 4-D inputs, d_model 1 to 16, float32 and float64, bias or not, any eps, and inputs far
    from 0 (x + 1e4): F.layer_norm computed in float64 from the same input is the oracle."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    LayerNorm(2)(torch.zeros(1, 2))  # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=40, report_multiple_bugs=False)
    @given(
        st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(1, 16), st.sampled_from([torch.float32, DT]),
        st.booleans(), st.sampled_from([1e-5, 1e-3, 0.1]), st.sampled_from([(0.0, 1.0), (1e4, 1.0), (-3e3, 1.0),
        (1e4, 30.0), (300.0, 0.1), (0.0, 1e-2)]), st.integers(0, 2 ** 16),
    )
    def matches(lead, d, dtype, bias, eps, offset_scale, seed):
        offset, scale = offset_scale
        known = _ln_state(d, bias=bias, seed=seed, dtype=dtype)
        ln = _load(LayerNorm(d, eps=eps, bias=bias).to(dtype), known, f"LayerNorm({d}, bias={bias})")
        x = (_randn(*lead, d, seed=seed + 1) * scale + offset).to(dtype)
        got = ln(x)
        want = F.layer_norm(x.double(), (d,), known["weight"].double(),
                            known["bias"].double() if bias else None, eps=eps)
        where = (f"LayerNorm({d}, eps={eps}, bias={bias}) in {dtype} on x {tuple(x.shape)} = randn * {scale:g} "
                 f"+ {offset:g}")
        assert got.shape == x.shape and got.dtype == dtype, (
            f"{where} gave {got.dtype} {tuple(got.shape)}: keep the input's shape and dtype (normalize over dim=-1 "
            "only, keepdim=True, and do not convert the input)"
        )
        ratio = abs(offset) / scale
        tol = (1e-10 if dtype == DT else 1e-4 + 5e-6 * ratio) * (1 + known["weight"].abs().max().item())
        err = _max_diff(got, want)
        if not err <= tol:  # also catches NaN
            hint = ("with the mean far from 0 the variance must be computed from the centred values, "
                    "mean((x - mean)^2), not as mean(x^2) - mean^2: that difference of two huge numbers cancels "
                    "catastrophically in float32 (it can even come out negative)" if ratio >= 100 else
                    "mean and biased variance over the last dim, (x - mean) / sqrt(var + eps) * weight + bias")
            raise AssertionError(f"{where}: differs from F.layer_norm (float64) by {err:.3g} (allowed {tol:.2g}): {hint}")

    matches()


def test_layernorm_gradients():
    known = _ln_state(12, seed=6)
    ln = _load(LayerNorm(12).double(), known, "LayerNorm(12)")
    params = dict(ln.named_parameters())
    for call, offset in enumerate((0.0, 1e4)):  # twice, the second far from 0: nothing may be kept from call to call
        x = (_randn(4, 3, 12, seed=7 + call) + offset).requires_grad_(True)
        upstream = _randn(4, 3, 12, seed=9 + call)
        w, b = known["weight"].clone().requires_grad_(True), known["bias"].clone().requires_grad_(True)
        got = torch.autograd.grad((ln(x) * upstream).sum(), (x, params["weight"], params["bias"]))
        want = torch.autograd.grad((F.layer_norm(x, (12,), w, b) * upstream).sum(), (x, w, b))
        for name, g, wg in zip(("x", "weight", "bias"), got, want):
            assert torch.allclose(g, wg, rtol=0, atol=1e-9), (
                f"call {call + 1} (x + {offset:g}): the gradient with respect to {name} differs from "
                f"F.layer_norm's by {_max_diff(g, wg):.2e} (float64): build LayerNorm from differentiable tensor "
                "ops on x, weight and bias (no .detach(), .data or .item()), and keep nothing from an earlier call"
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


def _mlp_state(d: int, hidden: int, bias: bool = True, seed: int = 0, prefix: str = "") -> dict:
    g = _gen(seed)
    state = {f"{prefix}c_fc.weight": torch.randn(hidden, d, generator=g, dtype=DT) / math.sqrt(d),
             f"{prefix}c_proj.weight": torch.randn(d, hidden, generator=g, dtype=DT) / math.sqrt(hidden)}
    if bias:
        state[f"{prefix}c_fc.bias"] = torch.randn(hidden, generator=g, dtype=DT)
        state[f"{prefix}c_proj.bias"] = torch.randn(d, generator=g, dtype=DT)
    return state


def _mlp_oracle(state: dict, x: torch.Tensor, prefix: str = "") -> torch.Tensor:
    h = F.linear(x, state[f"{prefix}c_fc.weight"], state.get(f"{prefix}c_fc.bias"))
    return F.linear(F.gelu(h, approximate="tanh"), state[f"{prefix}c_proj.weight"], state.get(f"{prefix}c_proj.bias"))


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


@pytest.mark.parametrize("shape, hidden, bias", [((2, 5, 8), 24, True), ((1, 1, 8), None, False), ((7, 8), 5, True)])
def test_mlp_forward(shape, hidden, bias):
    d = shape[-1]
    width = 4 * d if hidden is None else hidden
    state = _mlp_state(d, width, bias, seed=10)
    mlp = _load(MLP(d, hidden=hidden, bias=bias, dropout=0.5).double(), state, f"MLP({d}, hidden={hidden}, bias={bias})")
    x = _randn(*shape, seed=11)
    want = _mlp_oracle(state, x)
    got = mlp.eval()(x)
    assert got.shape == x.shape, f"MLP output should have the input's shape {tuple(x.shape)}, got {tuple(got.shape)}"
    assert torch.allclose(got, want, rtol=0, atol=1e-10), (
        f"MLP({d}, hidden={hidden}, bias={bias}, dropout=0.5) in eval() mode differs from c_proj(gelu(c_fc(x))) by "
        f"{_max_diff(got, want):.2e}: expand with c_fc, apply YOUR gelu, project back with c_proj; in eval() mode "
        "dropout must do nothing (use the nn.Dropout module, not F.dropout, whose training flag defaults to True)"
    )
    off = _load(MLP(d, hidden=hidden, bias=bias, dropout=0.0).double(), state, "MLP").train()
    assert torch.allclose(off(x), want, rtol=0, atol=1e-10), (
        "in train() mode with dropout=0.0 the MLP must drop nothing: dropout's p is the probability to DROP"
    )


def test_mlp_dropout_after_projection():
    p = 0.25
    state = _mlp_state(16, 64, seed=12)
    mlp = _load(MLP(16, dropout=p).double(), state, "MLP(16, dropout=0.25)").train()
    x = _randn(4, 8, 16, seed=13)
    clean = _mlp_oracle(state, x)
    noisy = mlp(x)
    dropped = noisy == 0
    assert abs(dropped.double().mean().item() - p) < 0.07, (
        f"in training mode with dropout={p} about {p:.0%} of the MLP's OUTPUTS should be exactly 0, got "
        f"{dropped.double().mean():.0%}: dropout goes last, after c_proj (GPT-2's residual dropout), with the "
        "constructor's p as the probability to drop"
    )
    assert torch.allclose(noisy[~dropped], clean[~dropped] / (1 - p), rtol=0, atol=1e-9), (
        f"the outputs that survive dropout should equal c_proj(gelu(c_fc(x))) scaled by 1 / (1 - p) (off by "
        f"{_max_diff(noisy[~dropped], clean[~dropped] / (1 - p)):.2e}): one nn.Dropout, after c_proj, and none "
        "on the hidden activations"
    )


# --- Stage 4: the pre-norm block and the residual stream ---------------------------------------------


def _block_state(d: int, bias: bool = True, seed: int = 0) -> dict:
    """Known weights by the block's documented names: ln_1, attn.c_attn ([q | k | v] rows), attn.c_proj, ln_2, mlp."""
    g = _gen(seed)
    state = {}
    for ln in ("ln_1", "ln_2"):
        state.update({f"{ln}.{k}": v for k, v in _ln_state(d, bias, seed=seed + len(state)).items()})
    state["attn.c_attn.weight"] = torch.randn(3 * d, d, generator=g, dtype=DT) / math.sqrt(d)
    state["attn.c_proj.weight"] = torch.randn(d, d, generator=g, dtype=DT) / math.sqrt(d)
    if bias:
        state["attn.c_attn.bias"] = torch.randn(3 * d, generator=g, dtype=DT)
        state["attn.c_proj.bias"] = torch.randn(d, generator=g, dtype=DT)
    state.update(_mlp_state(d, 4 * d, bias, seed=seed + 1, prefix="mlp."))
    return state


_TORCH_NAMES = {"self_attn.in_proj_": "attn.c_attn.", "self_attn.out_proj.": "attn.c_proj.", "linear1.": "mlp.c_fc.",
                "linear2.": "mlp.c_proj.", "norm1.": "ln_1.", "norm2.": "ln_2."}


def _torch_block(state: dict, d: int, n_head: int, bias: bool, norm_first: bool) -> nn.TransformerEncoderLayer:
    """PyTorch's encoder layer (float64, eval) holding ``state`` (its in_proj is the fused [q | k | v])."""
    ref = nn.TransformerEncoderLayer(
        d, n_head, dim_feedforward=4 * d, dropout=0.0, activation=lambda t: F.gelu(t, approximate="tanh"),
        layer_norm_eps=1e-5, batch_first=True, norm_first=norm_first, bias=bias, dtype=DT,
    )
    theirs = {}
    for name in ref.state_dict():
        for prefix, ours in _TORCH_NAMES.items():
            if name.startswith(prefix):
                theirs[name] = state[ours + name[len(prefix):]]
    ref.load_state_dict(theirs)
    return ref.eval()


def _check_block(block_cls, name: str, norm_first: bool, order: str):
    for bias, dropout, shape in ((True, 0.0, (3, 6, 16)), (False, 0.3, (2, 5, 16)), (True, 0.2, (1, 1, 16))):
        state = _block_state(16, bias, seed=14)
        what = f"{name}(16, 4, dropout={dropout}, bias={bias})"
        block = _load(block_cls(16, 4, dropout=dropout, bias=bias).double(), state, what).eval()
        ref = _torch_block(state, 16, 4, bias, norm_first)
        T = shape[1]
        x = _randn(*shape, seed=15)
        for mask in (None, torch.ones(T, T, dtype=torch.bool).tril()):
            got = block(x, mask)
            # PyTorch's attention masks say True = "may NOT attend": the opposite of ours.
            want = ref(x, src_mask=None if mask is None else ~mask)
            assert got.shape == x.shape, f"{what} changed the shape {tuple(x.shape)} -> {tuple(got.shape)}"
            assert torch.allclose(got, want, rtol=0, atol=1e-10), (
                f"{what} in eval() mode on x {tuple(x.shape)} (mask={'causal' if mask is not None else None}) differs "
                f"from nn.TransformerEncoderLayer(norm_first={norm_first}) by {_max_diff(got, want):.2e}: {order}"
            )
    # Gradients, over two calls: with respect to the input and to every parameter, by name.
    ours_to_theirs = {ours + rest: theirs + rest for theirs, ours in _TORCH_NAMES.items() for rest in ("weight", "bias")}
    params = dict(block.named_parameters())
    ref_params = dict(ref.named_parameters())
    mask = torch.ones(4, 4, dtype=torch.bool).tril()
    for call in range(2):
        x = _randn(2, 4, 16, seed=20 + call).requires_grad_(True)
        up = _randn(2, 4, 16, seed=22 + call)
        names = sorted(params)
        got = torch.autograd.grad((block(x, mask) * up).sum(), [x] + [params[n] for n in names])
        want = torch.autograd.grad((ref(x, src_mask=~mask) * up).sum(), [x] + [ref_params[ours_to_theirs[n]] for n in names])
        for name, g, w in zip(["the input"] + names, got, want):
            assert torch.allclose(g, w, rtol=0, atol=1e-9), (
                f"call {call + 1}: the gradient of {what} with respect to {name} differs from "
                f"nn.TransformerEncoderLayer's by {_max_diff(g, w):.2e}: {order}; no .detach() or .data"
            )


def test_prenorm_block_matches_torch():
    _check_block(
        PreNormBlock, "PreNormBlock", True,
        "expected x = x + attn(ln_1(x), mask); x = x + mlp(ln_2(x)): normalize the sub-layer's INPUT, "
        "add its output to the un-normalized stream, and pass the mask on to attn",
    )


def test_prenorm_residual_is_identity_path():
    state = _block_state(16, seed=16)
    for name in ("attn.c_proj.weight", "attn.c_proj.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"):
        state[name] = torch.zeros_like(state[name])  # silence both sub-layers: only the residual stream is left
    block = _load(PreNormBlock(d_model=16, n_head=4).double(), state, "PreNormBlock(16, 4)")
    x = _randn(2, 5, 16, seed=17) * 5 + 3
    got = block(x)
    assert torch.equal(got, x), (
        f"with both c_proj layers zeroed a pre-norm block must return x unchanged (off by "
        f"{_max_diff(got, x):.2e}): each sub-layer's output is ADDED to x, and x itself is never normalized"
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
        PostNormBlock, "PostNormBlock", False,
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


def _oracle_grad_norm(depth: int, d_model: int, n_head: int, seq_len: int, batch: int, seed: int, layer: int) -> float:
    """The measurement on a stack of LayerNorm(d_model, eps=n_head) "blocks" (weight 1, bias 0: no randomness)."""
    params = [(torch.ones(d_model, requires_grad=True), torch.zeros(d_model, requires_grad=True)) for _ in range(depth)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        x = torch.randn(batch, seq_len, d_model)
        target = torch.randn(batch, seq_len, d_model)
    out = x
    for weight, bias in params:
        out = F.layer_norm(out, (d_model,), weight, bias, eps=float(n_head))
    loss = (F.layer_norm(out, (d_model,)) - target).pow(2).mean()
    grads = torch.autograd.grad(loss, list(params[layer]))
    return math.sqrt(sum(g.double().pow(2).sum().item() for g in grads))


@pytest.mark.parametrize("depth, layer, n_head", [(3, 0, 1), (3, -1, 1), (4, 2, 1), (3, 0, 100)])
def test_grad_norm_matches_hand_computation(depth, layer, n_head):
    """The measurement rebuilt by the spec, with "blocks" whose parameters need no random numbers: your LayerNorm
    (block_cls(d_model, n_head) is then LayerNorm(d_model, eps=n_head), weight 1 and bias 0), checked in stage 1.
    With eps = n_head = 100 each block shrinks what it passes on, so the final layer norm's output no longer has a
    fixed size: only then does the loss tell (out - target) from (out + target)."""
    kwargs = dict(d_model=8, n_head=n_head, seq_len=3, batch=2, seed=7)
    got = first_layer_grad_norm(LayerNorm, depth, layer=layer, **kwargs)
    want = _oracle_grad_norm(depth, layer=layer, **kwargs)
    assert isinstance(got, float), f"first_layer_grad_norm should return a Python float (.item()), got {type(got).__name__}"
    assert math.isclose(got, want, rel_tol=1e-4), (
        f"first_layer_grad_norm(LayerNorm, depth={depth}, layer={layer}, n_head={n_head}) (a stack with known "
        f"parameters) gave {got:.6g}, expected {want:.6g} (ratio {got / want if want else float('nan'):.3g}): under "
        "torch.manual_seed(seed) draw x = torch.randn(batch, seq_len, d_model) and then target the same way; loss = "
        "MEAN((F.layer_norm(out, (d_model,)) - target)^2) with the final layer norm (out MINUS target); the L2 norm "
        "over ALL the gradients of block `layer` together, sqrt(sum of squares), not a sum of per-parameter norms"
    )


def test_prenorm_gradients_reach_the_bottom():
    seeds, size = range(2), dict(d_model=32, seq_len=8, batch=2)
    first = sum(first_layer_grad_norm(PreNormBlock, 16, seed=s, **size) for s in seeds)
    last = sum(first_layer_grad_norm(PreNormBlock, 16, seed=s, layer=-1, **size) for s in seeds)
    shallow = sum(first_layer_grad_norm(PreNormBlock, 1, seed=s, **size) for s in seeds)
    assert first > 1.1 * last, (
        f"in a 16-block pre-norm stack the first block's gradient ({first / 2:.3f}) should exceed the last "
        f"block's ({last / 2:.3f}): the residual path carries the gradient down undamped"
    )
    assert last < 0.85 * shallow, (
        f"in a pre-norm stack the last block's gradient should shrink with depth (1 block: {shallow / 2:.3f}, "
        f"16 blocks: {last / 2:.3f}): is `layer` selecting the right block, and is the output normalized?"
    )


def test_postnorm_gradients_pile_up_at_the_top():
    seeds, size = range(2), dict(d_model=32, seq_len=8, batch=2)
    first = sum(first_layer_grad_norm(PostNormBlock, 16, seed=s, **size) for s in seeds)
    last = sum(first_layer_grad_norm(PostNormBlock, 16, seed=s, layer=-1, **size) for s in seeds)
    assert last > first, (
        f"in a 16-block post-norm stack the last block should get the largest gradient (first "
        f"{first / 2:.3f}, last {last / 2:.3f}): every LayerNorm on the residual path rescales the gradient"
    )
