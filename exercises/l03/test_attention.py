"""Specs for lesson 3: softmax, scaled dot-product attention, one self-attention head.

The oracles are PyTorch itself: ``torch.softmax``, ``torch.nn.functional.scaled_dot_product_attention`` and
autograd through them. Each spec computes its oracle from tensors it made itself (never from the learner's
objects), compares in float64 so that "close" can be strict, and compares with a nonzero value, so that
an output of zeros of the right shape is never green. Property specs (hypothesis) draw shapes, dtypes,
masks and scales, extremes included.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..spec_helpers import raises_value_error
from .attention import SelfAttention, scaled_dot_product_attention, softmax

DT = torch.float64
TOL = {torch.float64: 1e-12, torch.float32: 2e-6, torch.bfloat16: 3e-2}  # softmax outputs, absolute


def randn(*shape, seed=0, dtype=DT):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def causal(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def max_diff(a, b):
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def oracle_softmax(x, dim=-1):
    """torch.softmax in float64, with the zeros (not NaN) this lesson promises for an all -inf slice."""
    return torch.softmax(x.double(), dim=dim).nan_to_num(0.0)


def oracle_attention(q, k, v, mask=None):
    """(out, weights) in float64 from torch.softmax (differentiable; a query that may attend to nothing gets 0)."""
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    live = torch.isfinite(scores).any(-1, keepdim=True)  # rows with at least one key to attend to
    weights = torch.softmax(scores.masked_fill(~live, 0.0), dim=-1) * live
    return weights @ v, weights


def torch_attention(q, k, v, mask=None):
    """F.scaled_dot_product_attention in float64 (its NaN rows, queries that may attend to nothing, as 0)."""
    if mask is not None:  # F.scaled_dot_product_attention wants a mask of at least 2 dims
        mask = mask.expand(torch.broadcast_shapes(mask.shape, (*q.shape[:-1], k.size(-2))))
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask).nan_to_num(0.0)


def likely_mistake(got, q, k, v, mask=None):
    """Name the classic mistake whose output equals ``got``, or return '' when none does."""
    q, k, v = q.double(), k.double(), v.double()
    d_k = q.size(-1)
    scores = q @ k.transpose(-2, -1)
    scaled = scores / math.sqrt(d_k)
    keep = torch.ones_like(scores, dtype=torch.bool) if mask is None else mask.expand_as(scores)
    wrong_weights = {
        "scores not divided by sqrt(d_k)?": torch.softmax(scores.masked_fill(~keep, -math.inf), -1),
        "scores divided by d_k instead of sqrt(d_k)?": torch.softmax((scores / d_k).masked_fill(~keep, -math.inf), -1),
        "softmax over the queries (dim=-2) instead of the keys (dim=-1)?": torch.softmax(scaled.masked_fill(~keep, -math.inf), -2),
    }
    if mask is not None:
        wrong_weights.update({
            "mask applied after the softmax (rows then no longer sum to 1)? Fill the scores with -inf before softmax.":
                torch.softmax(scaled, -1).masked_fill(~keep, 0.0),
            "mask polarity flipped? True means 'may attend': fill -inf where the mask is False.":
                torch.softmax(scaled.masked_fill(keep, -math.inf), -1),
            "masked scores filled with 0 instead of -inf? exp(0) = 1 still gives them weight.":
                torch.softmax(scaled.masked_fill(~keep, 0.0), -1),
            "mask ignored?": torch.softmax(scaled, -1),
        })
        if keep.size(-1) == keep.size(-2):
            wrong_weights["mask transposed? mask[..., i, j] says whether query i (row) may attend to key j (column); "
                          "use ~mask as it is, without transposing it."] = torch.softmax(
                scaled.masked_fill(~keep.transpose(-2, -1), -math.inf), -1)
    for mistake, weights in wrong_weights.items():
        # torch.softmax gives NaN on all -inf slices, where a correct softmax gives 0
        wrong = weights.nan_to_num(0.0) @ v
        if wrong.shape == got.shape and torch.allclose(got.double(), wrong, atol=1e-9):
            return mistake
    return ""


# ---------------------------------------------------------------- stage 1: softmax

@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_softmax_matches_torch(dim):
    x = randn(3, 4, 5) * 3
    got = softmax(x, dim=dim)
    want = torch.softmax(x, dim=dim)
    assert got.shape == want.shape, f"softmax(x of shape {tuple(x.shape)}, dim={dim}) has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    if not torch.allclose(got, want, rtol=0, atol=1e-12):
        sums = got.sum(dim=dim)
        if torch.allclose(sums, torch.ones_like(sums), rtol=0, atol=1e-12):
            hint = "compare with exp(x - max) / sum(exp(x - max))."
        elif (sums < 1).all() and torch.allclose(sums, torch.ones_like(sums), rtol=0, atol=1e-3):
            hint = (f"the slices sum to {sums.min().item():.9f}, just under 1: is an epsilon added to the denominator? "
                    "Divide by the sum itself (it is at least 1 once the max is subtracted).")
        else:
            hint = "the slices along dim do not sum to 1: are you normalising along another dim, or ignoring the dim argument?"
        raise AssertionError(f"softmax(x, dim={dim}) differs from torch.softmax by {max_diff(got, want):.3g}: {hint}")


def test_softmax_large_logits_do_not_overflow():
    x = torch.tensor([[1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0], [0.0, 1000.0, -1000.0]])
    for dtype, scale in ((torch.float32, 1.0), (torch.float32, 10.0), (torch.float64, 1e3)):  # logits up to 1e6
        xs = (x * scale).to(dtype)
        got = softmax(xs)
        assert torch.isfinite(got).all(), (
            f"softmax of {dtype} logits around +-{1000 * scale:g} gave {got.tolist()}: exp() overflows to inf and inf/inf is NaN. "
            "Subtract the max along dim (not the max of the whole tensor) before exp(): it cancels in the ratio "
            "and makes the largest exponent exp(0) = 1.")
        want = oracle_softmax(xs)
        assert got.dtype == dtype, f"softmax of a {dtype} tensor returned {got.dtype}: keep the input's dtype"
        assert torch.allclose(got.double(), want, rtol=0, atol=TOL[dtype]), (
            f"softmax({xs.tolist()}) gave {got.tolist()}, expected {want.tolist()}: subtract each slice's own max")


def test_softmax_fully_masked_row_gives_zeros():
    inf = math.inf
    x = torch.tensor([[-inf, -inf, -inf], [0.5, -inf, 1.5], [2.0, 2.0, 2.0]], dtype=DT)
    got = softmax(x)
    assert not torch.isnan(got).any(), (
        f"softmax of a row that is all -inf gave {got[0].tolist()}: its max is -inf and -inf - (-inf) is NaN. "
        "A query that may attend to nothing must get all-zero weights (later lessons rely on it): "
        "shift such rows by 0 instead of by their max, and do not divide 0 by 0.")
    want = torch.tensor([[0.0, 0.0, 0.0], [1 / (1 + math.e), 0.0, math.e / (1 + math.e)], [1 / 3, 1 / 3, 1 / 3]], dtype=DT)
    assert torch.allclose(got, want, rtol=0, atol=1e-12), f"softmax({x.tolist()}) gave {got.tolist()}, expected {want.tolist()}"
    got = softmax(x.T.contiguous(), dim=0)  # the same slices along dim 0
    assert torch.allclose(got, want.T, rtol=0, atol=1e-12), (
        f"softmax(x, dim=0) of a column that is all -inf gave {got.T.tolist()}, expected {want.tolist()} (transposed): "
        "take the max and the sum along dim, and handle all -inf slices along dim")


def test_softmax_any_shape_dtype_and_scale():
    """Property: equal to torch.softmax for any shape, dim, dtype, scale and offset, with -inf entries and slices."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    softmax(torch.zeros(2))  # on a stub, fail here rather than inside hypothesis

    @st.composite
    def cases(draw):
        shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        dtype = draw(st.sampled_from([torch.float64, torch.float32, torch.bfloat16]))
        scale = draw(st.sampled_from([1e-3, 1.0, 30.0, 1e4]))
        offset = draw(st.sampled_from([0.0, 1e4, -1e4]))
        seed = draw(st.integers(0, 2 ** 16))
        x = randn(*shape, seed=seed) * scale + offset
        infs = draw(st.sampled_from(["none", "some", "slice"]))
        if infs != "none":
            x[torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < 0.3] = -math.inf
        if infs == "slice":  # one whole slice along dim is -inf: a query that may attend to nothing
            x.movedim(dim, -1)[(0,) * (len(shape) - 1)] = -math.inf
        return x.to(dtype), dim

    @settings(max_examples=60, report_multiple_bugs=False)
    @given(cases())
    def matches(case):
        x, dim = case
        got = softmax(x, dim=dim)
        want = oracle_softmax(x, dim=dim)
        where = f"softmax(x of shape {tuple(x.shape)}, {x.dtype}, dim={dim})"
        assert got.shape == x.shape, f"{where} has shape {tuple(got.shape)}: the output has the input's shape"
        assert got.dtype == x.dtype, f"{where} returned {got.dtype}: keep the input's dtype (no float32 constants or .float())"
        assert not torch.isnan(got).any(), f"{where} gave NaN: an all -inf slice must give zeros, large logits must not overflow"
        assert torch.allclose(got.double(), want, rtol=0, atol=TOL[x.dtype]), (
            f"{where} differs from torch.softmax by {max_diff(got, want):.3g} (x from {x.min().item():g} to {x.max().item():g}): "
            "subtract the max of each slice along dim, exp, divide by the sum along dim; all -inf slices give 0")

    matches()


def test_softmax_gradient_matches_torch():
    """The backward pass through your softmax equals torch.softmax's; an all -inf slice gets zero gradient, not NaN."""
    inf = math.inf
    x0 = torch.tensor([[-inf, -inf, -inf, -inf], [0.5, -inf, 1.5, -2.0], [2.0, -1.0, 0.0, 3.0]], dtype=DT)
    for dim in (-1, 0):
        x = x0 if dim == -1 else x0.T.contiguous()
        x = x.clone().requires_grad_()
        x_oracle = x.detach().clone().requires_grad_()
        live = torch.isfinite(x_oracle).any(dim, keepdim=True)
        want = torch.softmax(x_oracle.masked_fill(~live, 0.0), dim=dim) * live
        grads = [randn(*x.shape, seed=20 + i) for i in range(2)]
        for g in grads:  # two calls, their gradients add up in x.grad
            (softmax(x, dim=dim) * g).sum().backward()
        (want * (grads[0] + grads[1])).sum().backward()
        got = x.grad
        assert got is not None, f"softmax(x, dim={dim}) gave no gradient to x: do not detach or use .data"
        assert not torch.isnan(got).any(), (
            f"the gradient of softmax(x, dim={dim}) has NaN where x is an all -inf slice: such a slice must get zero gradient. "
            "Patching NaN after the division (nan_to_num) fixes the values but not the backward pass: avoid the NaN "
            "(shift such slices by 0, divide by 1 where the sum is 0)")
        assert torch.allclose(got, x_oracle.grad, rtol=0, atol=1e-12), (
            f"the gradient of softmax(x, dim={dim}) differs from torch.softmax's by {max_diff(got, x_oracle.grad):.3g}: "
            "is part of the computation detached (.detach(), .data, .item()) or done in place?")


def test_softmax_any_layout_and_device_leaves_x_alone():
    """Generic contract: a transposed (non-contiguous) x gives the same slices as a contiguous one, the caller's x is
    not changed, and the result stays on x's device (checked on "meta" tensors, which have a device but no data)."""
    base = randn(4, 3, 5, seed=40) * 3
    base[1, 2] = -math.inf  # an all -inf slice along dim -1 of the transposed view below
    x = base.transpose(0, 2)  # (5, 3, 4), not contiguous
    before = x.clone()
    for dim in (-1, 0):
        got = softmax(x, dim=dim)
        want = oracle_softmax(x.contiguous(), dim=dim)
        assert torch.equal(x, before), (
            f"softmax(x, dim={dim}) changed the caller's x: do not subtract the max in place (x -= ..., x.sub_); "
            "write x - x.amax(dim, keepdim=True), a new tensor")
        assert got.shape == x.shape and torch.allclose(got, want, rtol=0, atol=1e-12), (
            f"softmax of a transposed (non-contiguous) x of shape {tuple(x.shape)}, dim={dim}, differs from the same "
            "values made contiguous: use .reshape (not .view) and keep dim's meaning whatever the memory layout")
    for dtype in (torch.float64, torch.float32):
        x = torch.empty(2, 3, 4, device="meta", dtype=dtype)
        try:
            got = softmax(x, dim=1)
        except (RuntimeError, NotImplementedError) as exc:
            if isinstance(exc, NotImplementedError) and "meta" not in str(exc):
                raise
            raise AssertionError(
                f"softmax of a tensor on device 'meta' raised {type(exc).__name__}: {str(exc)[:150]}: every tensor you "
                "make must be on x's device (torch.zeros_like(m), not torch.zeros(m.shape)), or a GPU input fails") from None
        assert got.device.type == "meta" and got.shape == x.shape and got.dtype == dtype, (
            f"softmax of a {dtype} (2, 3, 4) tensor on 'meta' gave {got.dtype} {tuple(got.shape)} on {got.device}: "
            "the output follows the input's device, shape and dtype")

# ---------------------------------------------------------------- stage 2: scaled dot-product attention

@pytest.mark.parametrize("shape_q, shape_kv, d_v", [
    ((5, 8), (5, 8), 8),                 # 2D: (seq, d_k), no batch
    ((2, 5, 8), (2, 5, 8), 8),          # 3D: (batch, seq, d_k)
    ((2, 3, 5, 16), (2, 3, 5, 16), 16),  # 4D: (batch, heads, seq, d_k)
    ((2, 3, 4, 16), (2, 3, 7, 16), 6),   # T_q != T_k and d_v != d_k
    ((1, 1, 1, 4), (1, 1, 1, 4), 3),     # one query, one key
], ids=["2d", "3d", "4d", "cross", "one-token"])
def test_sdpa_matches_torch(shape_q, shape_kv, d_v):
    q, k = randn(*shape_q, seed=1) * 2, randn(*shape_kv, seed=2) * 2
    v = randn(*shape_kv[:-1], d_v, seed=3)
    want = F.scaled_dot_product_attention(q, k, v)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == want.shape, (
        f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} gave out {tuple(out.shape)}, expected {tuple(want.shape)}: "
        "scores are q @ k.transpose(-2, -1) (shape (..., T_q, T_k)), out is weights @ v")
    if not torch.allclose(out, want, rtol=1e-6, atol=1e-7):
        mistake = likely_mistake(out, q, k, v) or "compute softmax(q @ k^T / sqrt(d_k)) @ v with softmax over the last dim."
        raise AssertionError(f"attention output differs from F.scaled_dot_product_attention by {max_diff(out, want):.3g}: {mistake}")


def test_sdpa_returns_the_weights():
    q, k, v = randn(2, 3, 4, 8, seed=4), randn(2, 3, 6, 8, seed=5), randn(2, 3, 6, 5, seed=6)
    scores = q @ k.transpose(-2, -1) / math.sqrt(8)
    want = torch.softmax(scores, dim=-1)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert weights.shape == (2, 3, 4, 6), f"weights have shape {tuple(weights.shape)}, expected (..., T_q, T_k) = (2, 3, 4, 6)"
    if not torch.allclose(weights, want, rtol=1e-6, atol=1e-7):
        hint = ("these are the raw scores: return the weights after the softmax" if torch.allclose(weights, scores) else
                likely_mistake(weights @ v, q, k, v) or "one row per query, normalised over the keys")
        raise AssertionError(f"weights differ from softmax(q k^T / sqrt(d_k)) by {max_diff(weights, want):.3g}: {hint}")
    assert torch.allclose(out, want @ v, rtol=1e-6, atol=1e-7), "out is not weights @ v: return the weights you actually used"


@pytest.mark.parametrize("kind", ["causal", "padding", "per-head"])
def test_sdpa_with_mask_matches_torch(kind):
    B, H, T, D = 2, 3, 6, 8
    q, k, v = randn(B, H, T, D, seed=7), randn(B, H, T, D, seed=8), randn(B, H, T, D, seed=9)
    if kind == "causal":
        mask = causal(T)                                       # (T, T), broadcast over batch and heads
    elif kind == "padding":
        mask = torch.ones(B, 1, 1, T, dtype=torch.bool)        # the last 2 tokens of sequence 1 are padding
        mask[1, ..., -2:] = False
    else:
        mask = torch.rand(B, H, T, T, generator=torch.Generator().manual_seed(10)) > 0.4
        mask[0, 0, 2] = False                                  # one query that may attend to nothing at all
    want = torch_attention(q, k, v, mask)
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert not torch.isnan(out).any(), (
        "attention gave NaN: a query whose keys are all masked has a row of -inf scores; your softmax must turn it into "
        "zeros (see the softmax stage)")
    if not torch.allclose(out, want, rtol=1e-6, atol=1e-7):
        mistake = likely_mistake(out, q, k, v, mask) or "fill the scores with -inf where the mask is False, then softmax."
        raise AssertionError(f"{kind} mask {tuple(mask.shape)}: output differs from F.scaled_dot_product_attention "
                             f"by {max_diff(out, want):.3g}: {mistake}")


def test_sdpa_masked_keys_get_zero_weight():
    T = 5
    q, k, v = randn(2, T, 4, seed=11), randn(2, T, 4, seed=12), randn(2, T, 4, seed=13)
    mask = causal(T)
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert torch.all(weights[:, ~mask] == 0), (
        f"weights where the mask is False should be exactly 0, got {weights[0].tolist()}: mask polarity flipped, "
        "or masked scores filled with a finite number instead of -inf? (True means 'may attend')")
    sums = weights.sum(-1)
    assert torch.allclose(sums, torch.ones_like(sums)), (
        f"each row of weights should sum to 1, got {sums[0].tolist()}: apply the mask to the scores before the softmax, "
        "not to the weights after it")
    # The future must not leak: changing the last value may only change the last output.
    v2 = v.clone()
    v2[:, -1] += 100.0
    out2, _ = scaled_dot_product_attention(q, k, v2, mask=mask)
    assert torch.allclose(out[:, :-1], out2[:, :-1]), "with a causal mask, changing the value at the last position changed earlier outputs"
    with raises_value_error("bool", "a float mask should raise ValueError (masks are bool, True = may attend); the check is given to you, keep it"):
        scaled_dot_product_attention(q, k, v, mask=mask.double())


def test_sdpa_any_shape_mask_dtype_and_scale():
    """Property: equal to F.scaled_dot_product_attention for any leading dims (none included), T_q, T_k, d_k, d_v,
    any mask shape that broadcasts (fully masked rows included), float32 and float64, scores up to ~1e4."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    scaled_dot_product_attention(torch.ones(1, 1), torch.ones(1, 1), torch.ones(1, 1))  # on a stub, fail here

    @st.composite
    def cases(draw):
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        T_q, T_k, d_k, d_v = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 8)), draw(st.integers(1, 5))
        dtype = draw(st.sampled_from([torch.float64, torch.float32]))
        scale = draw(st.sampled_from([0.1, 1.0, 3.0, 100.0]))  # q and k entries ~scale: scores ~scale^2
        seed = draw(st.integers(0, 2 ** 16))
        q = randn(*lead, T_q, d_k, seed=seed) * scale
        k = randn(*lead, T_k, d_k, seed=seed + 1) * scale
        v = randn(*lead, T_k, d_v, seed=seed + 2)
        full = (*lead, T_q, T_k)
        mask = None
        if draw(st.booleans()):
            n_dims = draw(st.integers(1, len(full)))  # masks may have fewer dims than the scores
            shape = tuple(n if draw(st.booleans()) else 1 for n in full[-n_dims:])
            keep = draw(st.sampled_from([0.3, 0.7, 1.0]))
            mask = torch.rand(shape, generator=torch.Generator().manual_seed(seed + 3)) < keep
        return q.to(dtype), k.to(dtype), v.to(dtype), mask

    @settings(max_examples=60, report_multiple_bugs=False)
    @given(cases())
    def matches(case):
        q, k, v, mask = case
        want = torch_attention(q, k, v, mask)
        _, want_weights = oracle_attention(q, k, v, mask)
        big = (q.double() @ k.double().transpose(-2, -1)).abs().max().item() / math.sqrt(q.size(-1))
        tol = 16 * torch.finfo(q.dtype).eps * (1 + big) * (1 + v.abs().max().item())
        where = (f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}, {q.dtype}, "
                 f"mask {None if mask is None else tuple(mask.shape)}, scores up to {big:.3g}")
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        assert out.shape == want.shape and weights.shape == want_weights.shape, (
            f"{where}: out {tuple(out.shape)} and weights {tuple(weights.shape)}, expected {tuple(want.shape)} and "
            f"{tuple(want_weights.shape)}: transpose only the last two dims of k, and let the mask broadcast")
        assert out.dtype == q.dtype and weights.dtype == q.dtype, f"{where}: got out {out.dtype}, weights {weights.dtype}: keep the inputs' dtype"
        assert not torch.isnan(out).any(), f"{where}: NaN in out: large scores must not overflow, and a query that may attend to nothing gets zeros"
        if not torch.allclose(out.double(), want, rtol=0, atol=tol):
            mistake = likely_mistake(out, q, k, v, mask) if q.dtype == DT else ""
            if not mistake and q.dtype == DT and torch.allclose(out.double(), want, rtol=1e-3, atol=1e-3):
                mistake = ("float64 inputs computed at float32 precision? A float32 constant (torch.sqrt(torch.tensor(d_k)) is "
                           "float32) or a .float() somewhere costs float64 its precision, a lot of it at large scores: use math.sqrt(d_k)")
            raise AssertionError(f"{where}: out differs from F.scaled_dot_product_attention by {max_diff(out, want):.3g}: "
                                 f"{mistake or 'softmax(q @ k^T / sqrt(d_k), masked with -inf where the mask is False) @ v'}")
        assert torch.allclose(weights.double(), want_weights, rtol=0, atol=tol), (
            f"{where}: weights differ from softmax(q k^T / sqrt(d_k)) by {max_diff(weights, want_weights):.3g}: "
            "return the weights that multiplied v")

    matches()


def test_sdpa_gradients_match_torch():
    """Backward through your attention equals autograd through torch's softmax, over two calls (gradients add up);
    a query that may attend to nothing sends no gradient (zeros, not NaN)."""
    B, H, T, D = 2, 2, 5, 4
    mask = causal(T) & (torch.rand(B, H, T, T, generator=torch.Generator().manual_seed(30)) > 0.3)
    mask[..., 0] = True
    mask[0, 1, 3] = False  # a query that may attend to nothing
    q, k, v = (randn(B, H, T, D, seed=31 + i).requires_grad_() for i in range(3))
    oq, ok, ov = (t.detach().clone().requires_grad_() for t in (q, k, v))
    grads = [(randn(B, H, T, D, seed=34 + i), randn(B, H, T, T, seed=36 + i)) for i in range(2)]
    for g_out, g_w in grads:
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        ((out * g_out).sum() + (weights * g_w).sum()).backward()
    want_out, want_w = oracle_attention(oq, ok, ov, mask)
    ((want_out * (grads[0][0] + grads[1][0])).sum() + (want_w * (grads[0][1] + grads[1][1])).sum()).backward()
    for name, got, want in (("q", q.grad, oq.grad), ("k", k.grad, ok.grad), ("v", v.grad, ov.grad)):
        assert got is not None, f"no gradient reached {name}: do not detach, use .data or .item() inside the attention"
        assert not torch.isnan(got).any(), (
            f"the gradient of {name} has NaN: a query that may attend to nothing must send zero gradient "
            "(fill masked scores with -inf using masked_fill, then your softmax)")
        assert torch.allclose(got, want, rtol=1e-6, atol=1e-7), (
            f"the gradient of {name} differs from autograd through torch.softmax by {max_diff(got, want):.3g}: "
            "is part of the attention detached, done in place, or different between calls?")


def test_sdpa_dropout_only_in_training():
    q, k, v = randn(2, 8, 4, seed=14), randn(2, 8, 4, seed=15), randn(2, 8, 4, seed=16)
    want_out, want_weights = oracle_attention(q, k, v)
    out_eval, weights_eval = scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=False)
    assert torch.allclose(weights_eval, want_weights, rtol=1e-6, atol=1e-7) and torch.allclose(out_eval, want_out, rtol=1e-6, atol=1e-7), (
        "with training=False there must be no dropout: evaluation is deterministic (F.dropout(..., training=training))")
    out_zero, weights_zero = scaled_dot_product_attention(q, k, v, dropout_p=0.0, training=True)
    assert torch.allclose(weights_zero, want_weights, rtol=1e-6, atol=1e-7), (
        "dropout_p=0.0 with training=True must drop nothing: p is the probability to drop a weight, not to keep it")
    for p in (1.0, -0.1):
        with raises_value_error("dropout_p", f"dropout_p={p} should raise ValueError (it must be in [0, 1)); the check is given to you, keep it"):
            scaled_dot_product_attention(q, k, v, dropout_p=p, training=True)


def test_sdpa_dropout_on_the_weights():
    """Where dropout sits and what it does: each weight (after the softmax) is zeroed with probability p,
    independently, the others divided by 1 - p, and out is the dropped-out weights @ v."""
    p, B, H, T, D = 0.3, 4, 2, 16, 8
    q, k, v = randn(B, H, T, D, seed=40), randn(B, H, T, D, seed=41), randn(B, H, T, D, seed=42)
    mask = causal(T)
    _, want_weights = oracle_attention(q, k, v, mask)
    torch.manual_seed(0)
    out, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=p, training=True)
    assert weights.shape == want_weights.shape, f"weights have shape {tuple(weights.shape)}, expected {tuple(want_weights.shape)}"
    assert torch.all(weights[..., ~mask] == 0), "with dropout, masked keys must still get weight 0"
    allowed = mask.expand_as(weights)
    kept = (weights != 0) & allowed
    dropped = 1 - kept.sum().item() / allowed.sum().item()
    assert abs(dropped - p) < 0.06, (
        f"with dropout_p={p} and training=True, {dropped:.0%} of the weights were zeroed, expected about {p:.0%}: "
        + ("dropout on the scores or the output instead of on the weights?" if dropped < 0.01 else
           "p is the probability to DROP: F.dropout(weights, p=dropout_p, training=training)" if abs(dropped - (1 - p)) < 0.06 else
           "use F.dropout(weights, p=dropout_p, training=training) on the weights after the softmax"))
    scale = weights[kept] / want_weights[kept]
    assert torch.allclose(scale, torch.full_like(scale, 1 / (1 - p)), rtol=1e-6, atol=1e-6), (
        f"the surviving weights should be the softmax weights times 1 / (1 - p) = {1 / (1 - p):.4g}, got factors from "
        f"{scale.min().item():.4g} to {scale.max().item():.4g}: use F.dropout (or nn.Dropout), which rescales, on the weights after the softmax")
    assert torch.allclose(out, weights @ v, rtol=1e-6, atol=1e-7), (
        "out should be the returned (dropped-out) weights @ v: apply dropout to the weights, then multiply by v")
    labels = ("batch", "head", "query", "key")
    for axis, (label, i) in enumerate(zip(labels, (0, 0, T - 2, 0))):  # two neighbouring slices along each axis
        a, b = kept.select(axis, i), kept.select(axis, i + 1)
        both = allowed.select(axis, i) & allowed.select(axis, i + 1)
        agree = (a == b)[both].float().mean().item()
        assert agree < 0.9, (
            f"the dropout pattern repeats along the {label} axis ({agree:.0%} of the positions agree): each weight must be "
            "dropped independently (F.dropout draws a fresh mask the shape of the weights)")


def test_sdpa_any_layout_batch_rows_and_device():
    """Generic contract: transposed or sliced (non-contiguous) q, k, v give the same result as contiguous ones and
    are not changed; row b of a batch equals the call on row b alone; the result follows the inputs' device."""
    B, H, T, D = 3, 2, 5, 4
    q = randn(B, H, D, T, seed=41).transpose(-2, -1)              # (B, H, T, D), not contiguous
    k = randn(H, B, T, D, seed=42).transpose(0, 1)                # (B, H, T, D), not contiguous
    v = randn(B, H, T, 2 * D, seed=43)[..., ::2]                  # (B, H, T, D), a strided slice
    mask = causal(T).expand(B, H, T, T)                           # an expanded (stride 0) mask
    copies = [t.clone() for t in (q, k, v, mask)]
    want = torch_attention(q, k, v, mask)
    try:
        out, weights = scaled_dot_product_attention(q, k, v, mask)
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        raise AssertionError(
            f"scaled_dot_product_attention on transposed/sliced (non-contiguous) q, k, v raised: {str(exc)[:150]}: "
            "use q @ k.transpose(-2, -1) (matmul broadcasts over the leading dims), or .reshape instead of .view") from None
    for name, t, c in zip("qkv", (q, k, v), copies):
        assert torch.equal(t, c), f"scaled_dot_product_attention changed the caller's {name}: never modify inputs in place (q /= ..., .div_)"
    assert torch.equal(mask, copies[3]), "scaled_dot_product_attention changed the caller's mask: use ~mask, not mask.logical_not_()"
    assert torch.allclose(out, want, rtol=0, atol=1e-12), (
        f"attention of non-contiguous q, k, v differs from F.scaled_dot_product_attention by {max_diff(out, want):.3g}: "
        "the memory layout must not matter")
    for b in (0, B - 1):
        alone, _ = scaled_dot_product_attention(q[b:b + 1], k[b:b + 1], v[b:b + 1], mask[b:b + 1])
        assert torch.allclose(alone[0], out[b], rtol=0, atol=1e-12), (
            f"row {b} of a batch of {B} differs from the same row attended alone by {max_diff(alone[0], out[b]):.3g}: "
            "something is reduced or normalised across the batch; reduce over the last dim (the keys) only")
    meta = [torch.empty(2, T, D, device="meta") for _ in range(3)]
    try:
        out, weights = scaled_dot_product_attention(*meta, mask=torch.ones(T, T, dtype=torch.bool, device="meta"))
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        raise AssertionError(
            f"scaled_dot_product_attention on tensors on device 'meta' raised: {str(exc)[:150]}: make every tensor "
            "on the inputs' device (zeros_like, device=q.device), or a GPU input fails") from None
    assert out.device.type == "meta" and weights.device.type == "meta" and out.shape == (2, T, D), (
        f"attention on 'meta' tensors gave out on {out.device} {tuple(out.shape)}: the result follows the inputs' device")

# ---------------------------------------------------------------- stage 3: a self-attention head

def head_state(d_model, d_head, bias=True, seed=0):
    """Known weights by the documented state-dict names: query/key/value .weight (d_head, d_model) and .bias (d_head,)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name in ("query", "key", "value"):
        state[f"{name}.weight"] = torch.randn(d_head, d_model, generator=g, dtype=DT) / math.sqrt(d_model)
        if bias:
            state[f"{name}.bias"] = torch.randn(d_head, generator=g, dtype=DT)
    return state


def make_head(d_model, d_head, bias=True, seed=0):
    """A learner's SelfAttention in float64 holding ``head_state``'s weights, and that state (the oracle's copy)."""
    head = SelfAttention(d_model, d_head, bias=bias)
    head.double()
    state = head_state(d_model, d_head, bias, seed)
    names = set(head.state_dict())
    assert names == set(state), (
        f"SelfAttention({d_model}, {d_head}, bias={bias}) has parameters {sorted(names)}, expected {sorted(state)}: "
        "three nn.Linear(d_model, d_head, bias=bias) named query, key and value (bias=bias on every one of them)")
    head.load_state_dict(state)
    return head, state


def head_oracle(state, x, mask=None):
    """The head, written with F.linear and F.scaled_dot_product_attention from the known weights."""
    q, k, v = (F.linear(x, state[f"{n}.weight"], state.get(f"{n}.bias")) for n in ("query", "key", "value"))
    return torch_attention(q, k, v, mask), oracle_attention(q, k, v, mask)[1]


def head_mistake(state, x, got, mask=None):
    """Name the classic head mistake whose output equals ``got``, or '' when none does."""
    q, k, v = (F.linear(x, state[f"{n}.weight"], state.get(f"{n}.bias")) for n in ("query", "key", "value"))
    variants = {
        "keys computed with self.query? k = self.key(x)": (q, q, v, mask),
        "queries computed with self.key? q = self.query(x)": (k, k, v, mask),
        "values computed with self.key or self.query? v = self.value(x)": (q, k, k, mask),
        "queries and keys swapped? q = self.query(x), k = self.key(x)": (k, q, v, mask),
    }
    if mask is not None:
        variants["mask not passed on to scaled_dot_product_attention?"] = (q, k, v, None)
    for mistake, args in variants.items():
        wrong = torch_attention(*args)
        if wrong.shape == got.shape and torch.allclose(got.detach(), wrong, atol=1e-9):
            return mistake
    return likely_mistake(got.detach(), q, k, v, mask) or (
        "queries from self.query, keys from self.key, values from self.value, then scaled_dot_product_attention with the mask")


def test_self_attention_layers_and_shapes():
    head = SelfAttention(d_model=12, d_head=4)
    for name in ("query", "key", "value"):
        layer = getattr(head, name, None)
        assert isinstance(layer, nn.Linear), f"SelfAttention.{name} should be an nn.Linear, got {type(layer).__name__}"
        assert layer.weight.shape == (4, 12), f"{name}.weight has shape {tuple(layer.weight.shape)}, expected (d_head, d_model) = (4, 12)"
    assert SelfAttention(d_model=6).query.weight.shape == (6, 6), "d_head should default to d_model"
    head, state = make_head(12, 4, seed=1)
    x = randn(3, 7, 12, seed=2)
    want, _ = head_oracle(state, x)
    out = head(x)
    assert out.shape == (3, 7, 4), f"SelfAttention(12, 4) on x (3, 7, 12) gave {tuple(out.shape)}, expected (B, T, d_head) = (3, 7, 4)"
    assert torch.allclose(out, want, rtol=1e-6, atol=1e-7), (
        f"SelfAttention(12, 4) differs from attention over (x W_q + b_q, x W_k + b_k, x W_v + b_v) by {max_diff(out, want):.3g}: "
        f"{head_mistake(state, x, out)}")


def test_self_attention_without_bias():
    head, state = make_head(8, 6, bias=False, seed=3)  # checks that no layer has a bias
    x = randn(2, 5, 8, seed=4)
    want, _ = head_oracle(state, x, causal(5))
    out = head(x, mask=causal(5))
    assert torch.allclose(out, want, rtol=1e-6, atol=1e-7), (
        f"SelfAttention(bias=False) differs from attention over (x W_q, x W_k, x W_v) by {max_diff(out, want):.3g}: "
        f"{head_mistake(state, x, out, causal(5))}")


@pytest.mark.parametrize("masked", ["no-mask", "causal", "padding", "per-sequence"])
def test_self_attention_matches_torch(masked):
    B, T, C, D = 3, 6, 16, 8
    head, state = make_head(C, D, seed=5)
    if masked == "causal":
        mask = causal(T)                                         # (T, T)
    elif masked == "padding":
        mask = torch.ones(B, 1, T, dtype=torch.bool)             # (B, 1, T): sequence 1 ends with 2 padding tokens
        mask[1, :, -2:] = False
    elif masked == "per-sequence":
        mask = causal(T) & (torch.rand(B, T, T, generator=torch.Generator().manual_seed(6)) > 0.3)  # (B, T, T)
        mask[..., 0] = True
    else:
        mask = None
    x = randn(B, T, C, seed=7).requires_grad_()
    x_oracle = x.detach().clone().requires_grad_()
    params = {name: t.clone().requires_grad_() for name, t in state.items()}
    want, _ = head_oracle(params, x_oracle, mask)
    grads = [randn(B, T, D, seed=8 + i) for i in range(2)]
    for i, g in enumerate(grads):  # two calls: the gradients add up
        out = head(x, mask=mask)
        if i == 0:
            where = f"SelfAttention on x {tuple(x.shape)} " + ("without a mask" if mask is None else f"with a {masked} mask {tuple(mask.shape)}")
            assert out.shape == want.shape, (
                f"{where} gave out {tuple(out.shape)}, expected {tuple(want.shape)}: pass the mask on as it is (it broadcasts "
                "against the (B, T, T) scores); a dim added to the mask becomes a dim of the output")
            assert torch.allclose(out, want, rtol=1e-6, atol=1e-7), (
                f"{where} differs from attention over (x W_q + b_q, x W_k + b_k, x W_v + b_v) by {max_diff(out, want):.3g}: "
                f"{head_mistake(state, x, out, mask)}")
        (out * g).sum().backward()
    (want * (grads[0] + grads[1])).sum().backward()
    assert x.grad is not None and torch.allclose(x.grad, x_oracle.grad, rtol=1e-6, atol=1e-7), (
        "the gradient with respect to x differs from the oracle's: is something detached?")
    got_params = dict(head.named_parameters())
    for name, want_param in params.items():
        grad = got_params[name].grad
        assert grad is not None, f"no gradient reached {name}: is it used in forward?"
        assert torch.allclose(grad, want_param.grad, rtol=1e-6, atol=1e-7), (
            f"the gradient of {name} differs from the oracle's by {max_diff(grad, want_param.grad):.3g}: is it used "
            "for the right thing (query for q, key for k, value for v)?")


def test_self_attention_any_shape_and_mask():
    """Property: any batch (1 included), length (1 included), widths, and each documented mask form."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    SelfAttention(2, 2)(torch.zeros(1, 1, 2))  # on a stub, fail here

    @st.composite
    def cases(draw):
        B, T, C, D = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 8)), draw(st.integers(1, 6))
        seed = draw(st.integers(0, 2 ** 16))
        kind = draw(st.sampled_from(["none", "(T, T)", "(B, 1, T)", "(B, T, T)"]))
        shape = {"none": None, "(T, T)": (T, T), "(B, 1, T)": (B, 1, T), "(B, T, T)": (B, T, T)}[kind]
        mask = None if shape is None else torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < 0.7
        return B, T, C, D, draw(st.booleans()), seed, mask

    @settings(max_examples=30, report_multiple_bugs=False)
    @given(cases())
    def matches(case):
        B, T, C, D, bias, seed, mask = case
        head, state = make_head(C, D, bias=bias, seed=seed)
        x = randn(B, T, C, seed=seed + 1)
        want, want_weights = head_oracle(state, x, mask)
        out, weights = head(x, mask=mask, return_weights=True)
        where = f"SelfAttention({C}, {D}, bias={bias}) on x {tuple(x.shape)} with mask {None if mask is None else tuple(mask.shape)}"
        assert out.shape == (B, T, D) and weights.shape == (B, T, T), (
            f"{where} gave out {tuple(out.shape)} and weights {tuple(weights.shape)}, expected ({B}, {T}, {D}) and ({B}, {T}, {T}): "
            "pass the mask on as it is (it broadcasts against the (B, T, T) scores); a dim added to the mask becomes a dim of the output")
        assert torch.allclose(out, want, rtol=1e-6, atol=1e-7), (
            f"{where}: out differs from the oracle by {max_diff(out, want):.3g}: {head_mistake(state, x, out, mask)}")
        assert torch.allclose(weights, want_weights, rtol=1e-6, atol=1e-7), f"{where}: weights differ from the oracle by {max_diff(weights, want_weights):.3g}"

    matches()


def test_self_attention_return_weights():
    head, state = make_head(8, 8, seed=10)
    x = randn(2, 5, 8, seed=11)
    want, want_weights = head_oracle(state, x, causal(5))
    result = head(x, mask=causal(5), return_weights=True)
    assert isinstance(result, tuple) and len(result) == 2, "return_weights=True should return (out, weights)"
    out, weights = result
    assert weights.shape == (2, 5, 5), f"weights have shape {tuple(weights.shape)}, expected (B, T, T) = (2, 5, 5)"
    assert torch.all(weights.triu(1) == 0), "with a causal mask no token may attend to a later one (weights above the diagonal must be 0)"
    assert torch.allclose(weights, want_weights, rtol=1e-6, atol=1e-7), (
        f"weights differ from softmax(q k^T / sqrt(d_head)) by {max_diff(weights, want_weights):.3g}: return the weights "
        "scaled_dot_product_attention gave you")
    assert torch.allclose(out, want, rtol=1e-6, atol=1e-7), (
        f"out differs from the oracle by {max_diff(out, want):.3g}: {head_mistake(state, x, out, causal(5))}")
    plain = head(x, mask=causal(5))
    assert isinstance(plain, torch.Tensor) and torch.equal(out, plain), "return_weights=False returns out alone, and the same out"


def test_self_attention_ignores_order():
    """Attention is permutation-equivariant: shuffle the tokens and the outputs shuffle the same way.
    Nothing in it knows which token came first, which is why lesson 2 adds positions."""
    head, state = make_head(8, 8, seed=12)
    x = randn(1, 6, 8, seed=18)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    want, _ = head_oracle(state, x)
    out, out_perm = head(x), head(x[:, perm])
    assert torch.allclose(out, want, rtol=1e-6, atol=1e-7), (
        f"SelfAttention differs from the oracle by {max_diff(out, want):.3g}: {head_mistake(state, x, out)}")
    assert torch.allclose(out_perm, out[:, perm], atol=1e-12), (
        "shuffling the input tokens should shuffle the outputs the same way (no mask, no positions): does something "
        "depend on the token index, or mix the batch/sequence axes?")


def test_self_attention_any_layout_and_batch_rows():
    """Generic contract: a transposed or sliced (non-contiguous) x gives the same output as a contiguous one and is not
    changed; row b of a batch equals the head on row b alone; batch 1 and length 1 work."""
    head, state = make_head(6, 4, seed=44)
    B, T = 3, 5
    x = randn(T, B, 6, seed=45).transpose(0, 1)     # (B, T, 6), not contiguous
    before = x.clone()
    want, _ = head_oracle(state, x.contiguous(), causal(T))
    try:
        out = head(x, mask=causal(T))
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        raise AssertionError(
            f"SelfAttention on a transposed (non-contiguous) x of shape {tuple(x.shape)} raised: {str(exc)[:150]}: "
            "nn.Linear takes (B, T, C) as it is; if you flatten, use .reshape, not .view") from None
    assert torch.equal(x, before), "SelfAttention changed the caller's x: never modify the input in place"
    assert torch.allclose(out, want, rtol=0, atol=1e-12), (
        f"SelfAttention on a non-contiguous x differs from the oracle by {max_diff(out, want):.3g}: the memory layout must not matter")
    for b in (0, B - 1):
        alone = head(x[b:b + 1], mask=causal(T))
        assert torch.allclose(alone[0], out[b], rtol=0, atol=1e-12), (
            f"row {b} of a batch of {B} differs from the same row alone by {max_diff(alone[0], out[b]):.3g}: "
            "nothing may mix or normalise across the batch")
    one = randn(1, 1, 6, seed=46)
    want, _ = head_oracle(state, one)
    got = head(one)
    assert got.shape == (1, 1, 4) and torch.allclose(got, want, rtol=0, atol=1e-12), (
        f"SelfAttention on x (1, 1, 6) (batch 1, one token) gave {tuple(got.shape)}, expected (1, 1, 4) equal to the "
        "token's value: no .squeeze(), and one key gets weight 1")
