"""Specs for lesson 4: split/merge heads, multi-head attention, parameter counts.

Oracles: explicit per-head slicing, a loop over lesson 3 ``SelfAttention`` heads with weights sliced from
``c_attn``, and ``torch.nn.MultiheadAttention`` given the same weights. Comparisons run in float64.
"""
import math

import pytest
import torch
from torch import nn

from ..spec_helpers import raises_value_error
from ..l03.attention import SelfAttention
from .multihead import MultiHeadAttention, count_parameters, merge_heads, split_heads

DT = torch.float64


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


def causal(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def make_mha(d_model=12, n_head=3, bias=True, seed=0):
    torch.manual_seed(seed)
    mha = MultiHeadAttention(d_model, n_head, bias=bias).double()
    if bias:  # nn.Linear biases start small; make them matter
        with torch.no_grad():
            mha.c_attn.bias.normal_()
            mha.c_proj.bias.normal_()
    return mha.eval()


def likely_mistake(mha, x, got, mask=None):
    """Name the classic multi-head mistake whose output equals ``got``, or '' when none does."""
    B, T, C = x.shape
    H, D = mha.n_head, C // mha.n_head

    def attend(q, k, v, scale):
        scores = q @ k.transpose(-2, -1) / scale
        if mask is not None:
            scores = scores.masked_fill(~mask, -math.inf)
        return torch.softmax(scores, -1) @ v

    def heads(t):
        return t.view(B, T, H, D).transpose(1, 2)

    def merged(y):
        return y.transpose(1, 2).reshape(B, T, C)

    q, k, v = mha.c_attn(x).split(C, dim=-1)
    right = attend(heads(q), heads(k), heads(v), math.sqrt(D))
    variants = {
        "heads split by reshaping straight to (B, n_head, T, head_dim)? That mixes positions into heads: "
        "reshape to (B, T, n_head, head_dim), then transpose(1, 2).":
            mha.c_proj(merged(attend(q.reshape(B, H, T, D), k.reshape(B, H, T, D), v.reshape(B, H, T, D), math.sqrt(D)))),
        "heads merged in the wrong order? Transpose (B, H, T, D) back to (B, T, H, D) before reshaping to (B, T, C).":
            mha.c_proj(right.reshape(B, T, C)),
        "q, k, v taken from c_attn in the wrong order? The output columns are [q | k | v].":
            mha.c_proj(merged(attend(heads(k), heads(q), heads(v), math.sqrt(D)))),
        "scores divided by sqrt(d_model)? Each head is an attention over head_dim = d_model // n_head dims.":
            mha.c_proj(merged(attend(heads(q), heads(k), heads(v), math.sqrt(C)))),
        "output projection c_proj missing?": merged(right),
    }
    if mask is not None:
        unmasked = torch.softmax(heads(q) @ heads(k).transpose(-2, -1) / math.sqrt(D), -1) @ heads(v)
        variants["mask not passed on to the attention?"] = mha.c_proj(merged(unmasked))
    for mistake, wrong in variants.items():
        if torch.allclose(got, wrong, atol=1e-9):
            return mistake
    return ""


# ---------------------------------------------------------------- stage 1: split and merge heads

def test_split_heads_layout():
    x = randn(2, 5, 12, seed=1)
    got = split_heads(x, n_head=3)
    assert got.shape == (2, 3, 5, 4), f"split_heads(x (2, 5, 12), n_head=3) gave {tuple(got.shape)}, expected (B, n_head, T, C // n_head) = (2, 3, 5, 4)"
    want = torch.stack([x[:, :, h * 4:(h + 1) * 4] for h in range(3)], dim=1)  # head h = channels [4h, 4h + 4)
    if not torch.equal(got, want):
        hint = ("you reshaped (B, T, C) straight to (B, n_head, T, head_dim): that mixes positions into heads. "
                "Reshape to (B, T, n_head, head_dim), then transpose(1, 2)."
                if torch.equal(got, x.reshape(2, 3, 5, 4)) else
                "head h of token t must hold channels [h * head_dim, (h + 1) * head_dim) of token t.")
        raise AssertionError(f"split_heads put the wrong numbers in the heads: {hint}")


def test_merge_heads_inverts_split():
    y = randn(2, 3, 5, 4, seed=2)                       # (B, H, T, D)
    got = merge_heads(y)
    assert got.shape == (2, 5, 12), f"merge_heads(y (2, 3, 5, 4)) gave {tuple(got.shape)}, expected (B, T, H * D) = (2, 5, 12)"
    want = torch.cat([y[:, h] for h in range(3)], dim=-1)  # heads side by side along the channels
    if not torch.equal(got, want):
        hint = ("you reshaped (B, H, T, D) straight to (B, T, H * D): transpose(1, 2) back to (B, T, H, D) first "
                "(and .contiguous() or .reshape, since the transpose is not contiguous)."
                if torch.equal(got, y.reshape(2, 5, 12)) else
                "channels [h * D, (h + 1) * D) of token t must be head h's output for token t.")
        raise AssertionError(f"merge_heads put the heads in the wrong places: {hint}")
    x = randn(2, 5, 12, seed=3)
    assert torch.equal(merge_heads(split_heads(x, 3)), x), "merge_heads(split_heads(x, n_head)) should give back x exactly"


def test_split_heads_rejects_indivisible():
    with raises_value_error("10", "split_heads of 10 channels into 3 heads should raise ValueError naming C (10) and n_head"):
        split_heads(torch.zeros(1, 2, 10), n_head=3)
    with raises_value_error("10", "MultiHeadAttention(d_model=10, n_head=3) should raise ValueError"):
        MultiHeadAttention(d_model=10, n_head=3)


# ---------------------------------------------------------------- stage 2: multi-head attention

def test_mha_state_dict_names():
    torch.manual_seed(0)
    mha = MultiHeadAttention(d_model=12, n_head=3)
    shapes = {name: tuple(t.shape) for name, t in mha.state_dict().items()}
    want = {"c_attn.weight": (36, 12), "c_attn.bias": (36,), "c_proj.weight": (12, 12), "c_proj.bias": (12,)}
    assert shapes == want, f"state dict {shapes}, expected GPT-2's names and shapes {want}"
    no_bias = set(MultiHeadAttention(12, 3, bias=False).state_dict())
    assert no_bias == {"c_attn.weight", "c_proj.weight"}, f"bias=False gave {sorted(no_bias)}"
    out = mha(torch.randn(2, 5, 12))
    assert out.shape == (2, 5, 12), f"MultiHeadAttention(12, 3) on x (2, 5, 12) gave {tuple(out.shape)}, expected (2, 5, 12)"


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal"])
def test_mha_matches_loop_over_heads(masked):
    """n_head separate lesson-3 heads, their outputs concatenated, then c_proj: the slow, obvious version."""
    C, H, T = 12, 3, 5
    D = C // H
    mha = make_mha(C, H, seed=4)
    x = randn(2, T, C, seed=5)
    mask = causal(T) if masked else None
    outputs = []
    for h in range(H):
        head = SelfAttention(C, D).double()
        with torch.no_grad():
            for i, layer in enumerate((head.query, head.key, head.value)):  # c_attn's rows: [q | k | v]
                rows = slice(i * C + h * D, i * C + (h + 1) * D)
                layer.weight.copy_(mha.c_attn.weight[rows])
                layer.bias.copy_(mha.c_attn.bias[rows])
        outputs.append(head(x, mask=mask))
    want = mha.c_proj(torch.cat(outputs, dim=-1))
    got = mha(x, mask=mask)
    assert got.shape == want.shape, f"out has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    if not torch.allclose(got, want, atol=1e-10):
        mistake = likely_mistake(mha, x, got, mask) or "split c_attn(x) into q, k, v, split each into heads, attend, merge, c_proj."
        raise AssertionError(f"MultiHeadAttention differs from {H} separate heads + c_proj by {(got - want).abs().max():.3g}: {mistake}")
    got.sum().backward()
    for name in ("c_attn", "c_proj"):
        grad = getattr(mha, name).weight.grad
        assert grad is not None and grad.abs().sum() > 0, f"no gradient reached {name}.weight: is it used in forward?"


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal"])
def test_mha_matches_torch_multihead_attention(masked):
    C, H, T = 16, 4, 6
    mha = make_mha(C, H, seed=6)
    torch_mha = nn.MultiheadAttention(C, H, bias=True, batch_first=True).double().eval()
    with torch.no_grad():  # same weights: PyTorch's in_proj is our fused c_attn, its out_proj our c_proj
        torch_mha.in_proj_weight.copy_(mha.c_attn.weight)
        torch_mha.in_proj_bias.copy_(mha.c_attn.bias)
        torch_mha.out_proj.weight.copy_(mha.c_proj.weight)
        torch_mha.out_proj.bias.copy_(mha.c_proj.bias)
    x = randn(3, T, C, seed=7)
    mask = causal(T) if masked else None
    # PyTorch's boolean attn_mask has the opposite polarity: True = NOT allowed.
    want, want_weights = torch_mha(x, x, x, attn_mask=None if mask is None else ~mask,
                                   need_weights=True, average_attn_weights=False)
    got, weights = mha(x, mask=mask, return_weights=True)
    if not torch.allclose(got, want, atol=1e-10):
        mistake = likely_mistake(mha, x, got, mask) or "split c_attn(x) into q, k, v, split each into heads, attend, merge, c_proj."
        raise AssertionError(f"MultiHeadAttention differs from torch.nn.MultiheadAttention by {(got - want).abs().max():.3g}: {mistake}")
    assert weights.shape == (3, H, T, T), f"weights have shape {tuple(weights.shape)}, expected (B, n_head, T, T) = (3, {H}, {T}, {T})"
    assert torch.allclose(weights, want_weights, atol=1e-10), "attention weights differ from torch.nn.MultiheadAttention's per-head weights"


def test_mha_return_weights_and_mask():
    mha = make_mha(12, 3, seed=8)
    x = randn(2, 5, 12, seed=9)
    result = mha(x, mask=causal(5), return_weights=True)
    assert isinstance(result, tuple) and len(result) == 2, "return_weights=True should return (out, weights)"
    out, weights = result
    assert weights.shape == (2, 3, 5, 5), f"weights have shape {tuple(weights.shape)}, expected (B, n_head, T, T) = (2, 3, 5, 5)"
    assert torch.all(weights.triu(1) == 0), "with a causal mask, weights above the diagonal must be 0 in every head: is the mask passed on?"
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 5, dtype=DT)), "each head's weights should sum to 1 over the keys"
    assert torch.equal(out, mha(x, mask=causal(5))), "return_weights must not change the output"
    # Padding mask (B, 1, 1, T): the last token of sequence 0 is padding; no query may attend to it.
    pad = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    pad[0, ..., -1] = False
    _, weights = mha(x, mask=pad, return_weights=True)
    assert torch.all(weights[0, :, :, -1] == 0), "a (B, 1, 1, T) padding mask must broadcast over heads and queries"


def test_mha_dropout_only_in_training():
    mha = make_mha(12, 3, seed=10)
    dropped = MultiHeadAttention(12, 3, dropout=0.5).double()
    dropped.load_state_dict(mha.state_dict())
    x = randn(2, 5, 12, seed=11)
    dropped.eval()
    assert torch.allclose(dropped(x), mha(x)), "in eval() mode dropout must do nothing"
    dropped.train()
    torch.manual_seed(0)
    assert not torch.allclose(dropped(x), mha(x)), "in train() mode with dropout=0.5 the output should change: pass dropout_p and training on"


# ---------------------------------------------------------------- stage 3: counting parameters

@pytest.mark.parametrize("d_model, n_head", [(12, 3), (64, 8), (768, 12)])
def test_count_parameters_closed_form(d_model, n_head):
    torch.manual_seed(0)
    mha = MultiHeadAttention(d_model, n_head)
    got = count_parameters(mha)
    want = 4 * d_model ** 2 + 4 * d_model  # c_attn: 3d^2 + 3d, c_proj: d^2 + d
    assert got == want, f"count_parameters(MultiHeadAttention({d_model}, {n_head})) = {got}, expected 4d^2 + 4d = {want}"
    no_bias = count_parameters(MultiHeadAttention(d_model, n_head, bias=False))
    assert no_bias == 4 * d_model ** 2, f"without biases: {no_bias}, expected 4d^2 = {4 * d_model ** 2}"


def test_count_parameters_trainable_only():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2)
    mha.c_attn.requires_grad_(False)
    assert count_parameters(mha) == 8 * 8 + 8, (
        f"with c_attn frozen, count_parameters(mha) = {count_parameters(mha)}, expected only c_proj's 72: skip p.requires_grad == False")
    assert count_parameters(mha, trainable_only=False) == 4 * 64 + 32, "trainable_only=False should count every parameter"


def test_count_parameters_shared_and_buffers():
    """A tied weight (as GPT-2 ties its embedding and output layers) counts once; buffers are not parameters."""
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    model[1].weight = model[0].weight
    model.register_buffer("mask", torch.ones(5, 5))
    got = count_parameters(model)
    assert got == 40, f"got {got}, expected 40: a shared tensor counts once (use module.parameters()), and buffers are not parameters"
