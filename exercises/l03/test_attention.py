"""Specs for lesson 3: softmax, scaled dot-product attention, one self-attention head.

The oracle is PyTorch itself: ``torch.softmax`` and ``torch.nn.functional.scaled_dot_product_attention``.
Comparisons run in float64 so that "close" can be strict.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..spec_helpers import raises_value_error
from .attention import SelfAttention, scaled_dot_product_attention, softmax

DT = torch.float64


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


def causal(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def max_diff(a, b):
    return (a - b).abs().max().item()


def likely_mistake(got, q, k, v, mask=None):
    """Name the classic mistake whose output equals ``got``, or return '' when none does."""
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
    for mistake, weights in wrong_weights.items():
        # torch.softmax gives NaN on all -inf slices, where a correct softmax gives 0
        wrong = weights.nan_to_num(0.0) @ v
        if wrong.shape == got.shape and torch.allclose(got, wrong, atol=1e-9):
            return mistake
    return ""


# ---------------------------------------------------------------- stage 1: softmax

@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_softmax_matches_torch(dim):
    x = randn(3, 4, 5) * 3
    got = softmax(x, dim=dim)
    want = torch.softmax(x, dim=dim)
    assert got.shape == want.shape, f"softmax(x of shape {tuple(x.shape)}, dim={dim}) has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    if not torch.allclose(got, want, atol=1e-12):
        sums = got.sum(dim=dim)
        hint = ("the slices along dim do not sum to 1: are you normalising along another dim, or ignoring the dim argument?"
                if not torch.allclose(sums, torch.ones_like(sums)) else "compare with exp(x - max) / sum(exp(x - max)).")
        raise AssertionError(f"softmax(x, dim={dim}) differs from torch.softmax by {max_diff(got, want):.3g}: {hint}")


def test_softmax_large_logits_do_not_overflow():
    x = torch.tensor([[1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0], [0.0, 1000.0, -1000.0]])
    got = softmax(x)
    assert torch.isfinite(got).all(), (
        f"softmax of logits around +-1000 gave {got.tolist()}: exp(1000) overflows to inf and inf/inf is NaN. "
        "Subtract the row's max before exp(): it cancels in the ratio and makes the largest exponent exp(0) = 1.")
    want = torch.softmax(x, dim=-1)
    assert torch.allclose(got, want, atol=1e-6), f"softmax({x.tolist()}) gave {got.tolist()}, expected {want.tolist()}"


def test_softmax_fully_masked_row_gives_zeros():
    inf = math.inf
    x = torch.tensor([[-inf, -inf, -inf], [0.5, -inf, 1.5], [2.0, 2.0, 2.0]], dtype=DT)
    got = softmax(x)
    assert not torch.isnan(got).any(), (
        f"softmax of a row that is all -inf gave {got[0].tolist()}: its max is -inf and -inf - (-inf) is NaN. "
        "A query that may attend to nothing must get all-zero weights (later lessons rely on it): "
        "shift such rows by 0 instead of by their max, and do not divide 0 by 0.")
    want = torch.tensor([[0.0, 0.0, 0.0], [1 / (1 + math.e), 0.0, math.e / (1 + math.e)], [1 / 3, 1 / 3, 1 / 3]], dtype=DT)
    assert torch.allclose(got, want, atol=1e-12), f"softmax({x.tolist()}) gave {got.tolist()}, expected {want.tolist()}"


# ---------------------------------------------------------------- stage 2: scaled dot-product attention

@pytest.mark.parametrize("shape_q, shape_kv, d_v", [
    ((2, 5, 8), (2, 5, 8), 8),          # 3D: (batch, seq, d_k)
    ((2, 3, 5, 16), (2, 3, 5, 16), 16),  # 4D: (batch, heads, seq, d_k)
    ((2, 3, 4, 16), (2, 3, 7, 16), 6),   # T_q != T_k and d_v != d_k
], ids=["3d", "4d", "cross"])
def test_sdpa_matches_torch(shape_q, shape_kv, d_v):
    q, k = randn(*shape_q, seed=1) * 2, randn(*shape_kv, seed=2) * 2
    v = randn(*shape_kv[:-1], d_v, seed=3)
    out, weights = scaled_dot_product_attention(q, k, v)
    want = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == want.shape, (
        f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} gave out {tuple(out.shape)}, expected {tuple(want.shape)}: "
        "scores are q @ k.transpose(-2, -1) (shape (..., T_q, T_k)), out is weights @ v")
    if not torch.allclose(out, want, atol=1e-10):
        mistake = likely_mistake(out, q, k, v) or "compute softmax(q @ k^T / sqrt(d_k)) @ v with softmax over the last dim."
        raise AssertionError(f"attention output differs from F.scaled_dot_product_attention by {max_diff(out, want):.3g}: {mistake}")


def test_sdpa_returns_the_weights():
    q, k, v = randn(2, 3, 4, 8, seed=4), randn(2, 3, 6, 8, seed=5), randn(2, 3, 6, 5, seed=6)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert weights.shape == (2, 3, 4, 6), f"weights have shape {tuple(weights.shape)}, expected (..., T_q, T_k) = (2, 3, 4, 6)"
    scores = q @ k.transpose(-2, -1) / math.sqrt(8)
    want = torch.softmax(scores, dim=-1)
    if not torch.allclose(weights, want, atol=1e-12):
        hint = ("these are the raw scores: return the weights after the softmax" if torch.allclose(weights, scores) else
                likely_mistake(weights @ v, q, k, v) or "one row per query, normalised over the keys")
        raise AssertionError(f"weights differ from softmax(q k^T / sqrt(d_k)) by {max_diff(weights, want):.3g}: {hint}")
    assert torch.allclose(out, weights @ v, atol=1e-12), "out is not weights @ v: return the weights you actually used"


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
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert not torch.isnan(out).any(), (
        "attention gave NaN: a query whose keys are all masked has a row of -inf scores; your softmax must turn it into "
        "zeros (see the softmax stage)")
    if not torch.allclose(out, want, atol=1e-10):
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


def test_sdpa_dropout_only_in_training():
    q, k, v = randn(2, 8, 4, seed=14), randn(2, 8, 4, seed=15), randn(2, 8, 4, seed=16)
    out, weights = scaled_dot_product_attention(q, k, v)
    out_eval, weights_eval = scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=False)
    assert torch.equal(weights_eval, weights), "with training=False there must be no dropout (evaluation is deterministic)"
    torch.manual_seed(0)
    out_train, weights_train = scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=True)
    dropped = weights_train == 0
    assert 0 < dropped.float().mean() < 1, "with dropout_p=0.5 and training=True, some (not all) weights should be zeroed"
    assert torch.allclose(weights_train[~dropped], 2 * weights[~dropped]), (
        "the surviving weights should be scaled by 1 / (1 - p) = 2 (use F.dropout, or nn.Dropout)")
    assert torch.allclose(out_train, weights_train @ v), "out should be the dropped-out weights @ v"


# ---------------------------------------------------------------- stage 3: a self-attention head

def test_self_attention_layers_and_shapes():
    torch.manual_seed(0)
    head = SelfAttention(d_model=12, d_head=4)
    for name in ("query", "key", "value"):
        layer = getattr(head, name, None)
        assert isinstance(layer, nn.Linear), f"SelfAttention.{name} should be an nn.Linear, got {type(layer).__name__}"
        assert layer.weight.shape == (4, 12), f"{name}.weight has shape {tuple(layer.weight.shape)}, expected (d_head, d_model) = (4, 12)"
    assert SelfAttention(d_model=6).query.weight.shape == (6, 6), "d_head should default to d_model"
    assert SelfAttention(d_model=6, bias=False).query.bias is None, "bias=False should give nn.Linear(..., bias=False)"
    out = head(torch.randn(3, 7, 12))
    assert out.shape == (3, 7, 4), f"SelfAttention(12, 4) on x (3, 7, 12) gave {tuple(out.shape)}, expected (B, T, d_head) = (3, 7, 4)"


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal"])
def test_self_attention_matches_torch(masked):
    torch.manual_seed(0)
    head = SelfAttention(d_model=16, d_head=8).double()
    x = randn(2, 6, 16, seed=17)
    mask = causal(6) if masked else None
    out = head(x, mask=mask)
    q, k, v = (F.linear(x, layer.weight, layer.bias) for layer in (head.query, head.key, head.value))
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.shape == want.shape, f"out has shape {tuple(out.shape)}, expected {tuple(want.shape)}"
    assert torch.allclose(out, want, atol=1e-10), (
        f"SelfAttention differs from attention over (x W_q + b_q, x W_k + b_k, x W_v + b_v) by {max_diff(out, want):.3g}: "
        "queries from self.query, keys from self.key, values from self.value, then scaled_dot_product_attention")
    out.sum().backward()
    for name in ("query", "key", "value"):
        grad = getattr(head, name).weight.grad
        assert grad is not None and grad.abs().sum() > 0, f"no gradient reached {name}.weight: is it used in forward?"


def test_self_attention_return_weights():
    torch.manual_seed(0)
    head = SelfAttention(d_model=8, d_head=8)
    x = torch.randn(2, 5, 8)
    result = head(x, mask=causal(5), return_weights=True)
    assert isinstance(result, tuple) and len(result) == 2, "return_weights=True should return (out, weights)"
    out, weights = result
    assert weights.shape == (2, 5, 5), f"weights have shape {tuple(weights.shape)}, expected (B, T, T) = (2, 5, 5)"
    assert torch.all(weights.triu(1) == 0), "with a causal mask no token may attend to a later one (weights above the diagonal must be 0)"
    assert torch.equal(out, head(x, mask=causal(5))), "return_weights must not change the output"


def test_self_attention_ignores_order():
    """Attention is permutation-equivariant: shuffle the tokens and the outputs shuffle the same way.
    Nothing in it knows which token came first, which is why lesson 2 adds positions."""
    torch.manual_seed(0)
    head = SelfAttention(d_model=8, d_head=8).double()
    x = randn(1, 6, 8, seed=18)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    out, out_perm = head(x), head(x[:, perm])
    assert torch.allclose(out_perm, out[:, perm], atol=1e-12), (
        "shuffling the input tokens should shuffle the outputs the same way (no mask, no positions): does something "
        "depend on the token index, or mix the batch/sequence axes?")
