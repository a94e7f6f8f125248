"""Specs for lesson 4: split/merge heads, multi-head attention, parameter counts.

Oracles: explicit per-head slicing, an explicit loop over the heads (``F.linear`` and
``F.scaled_dot_product_attention`` on the rows of ``c_attn`` that belong to each head), and
``torch.nn.MultiheadAttention`` given the same weights. Each spec loads known weights by the documented
state-dict names and computes its oracle from its own copy of them; comparisons run in float64.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..spec_helpers import raises_value_error
from .multihead import MultiHeadAttention, count_parameters, merge_heads, split_heads

DT = torch.float64


def randn(*shape, seed=0, dtype=DT):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def causal(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def max_diff(a, b):
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def mha_state(d_model, bias=True, seed=0):
    """Known weights by GPT-2's names: c_attn (3 d_model, d_model) with rows [q | k | v], c_proj (d_model, d_model)."""
    g = torch.Generator().manual_seed(seed)
    state = {
        "c_attn.weight": torch.randn(3 * d_model, d_model, generator=g, dtype=DT) / math.sqrt(d_model),
        "c_proj.weight": torch.randn(d_model, d_model, generator=g, dtype=DT) / math.sqrt(d_model),
    }
    if bias:  # nn.Linear's biases start small; these matter
        state["c_attn.bias"] = torch.randn(3 * d_model, generator=g, dtype=DT)
        state["c_proj.bias"] = torch.randn(d_model, generator=g, dtype=DT)
    return state


def make_mha(d_model=12, n_head=3, bias=True, dropout=0.0, seed=0):
    """A learner's MultiHeadAttention in float64 and eval mode holding ``mha_state``'s weights, and that state."""
    mha = MultiHeadAttention(d_model, n_head, bias=bias, dropout=dropout)
    mha.double()
    mha.eval()
    state = mha_state(d_model, bias, seed)
    names = set(mha.state_dict())
    assert names == set(state), (
        f"MultiHeadAttention({d_model}, {n_head}, bias={bias}) has state dict {sorted(names)}, expected GPT-2's {sorted(state)}: "
        "c_attn = nn.Linear(d_model, 3 * d_model, bias=bias), c_proj = nn.Linear(d_model, d_model, bias=bias)")
    mha.load_state_dict(state)
    return mha, state


def safe_softmax(scores):
    """torch.softmax over the keys; a query that may attend to nothing gets zeros (lesson 3's promise)."""
    live = torch.isfinite(scores).any(-1, keepdim=True)
    return torch.softmax(scores.masked_fill(~live, 0.0), dim=-1) * live


def oracle(state, x, n_head, mask=None):
    """(out, weights): a loop over the heads, each an attention over its own rows of c_attn, then c_proj."""
    B, T, C = x.shape
    D = C // n_head
    W, b = state["c_attn.weight"], state.get("c_attn.bias")
    full = None if mask is None else mask.expand(B, n_head, T, T)
    outputs, weights = [], []
    for h in range(n_head):
        q, k, v = (F.linear(x, W[i * C + h * D:i * C + (h + 1) * D], None if b is None else b[i * C + h * D:i * C + (h + 1) * D])
                   for i in range(3))  # c_attn's rows: [q | k | v], head h owns rows [h * D, (h + 1) * D) of each
        m = None if full is None else full[:, h]
        outputs.append(F.scaled_dot_product_attention(q, k, v, attn_mask=m).nan_to_num(0.0))
        scores = q @ k.transpose(-2, -1) / math.sqrt(D)
        weights.append(safe_softmax(scores if m is None else scores.masked_fill(~m, -math.inf)))
    out = F.linear(torch.cat(outputs, dim=-1), state["c_proj.weight"], state.get("c_proj.bias"))
    return out, torch.stack(weights, dim=1)


def likely_mistake(state, x, n_head, got, mask=None):
    """Name the classic multi-head mistake whose output equals ``got``, or '' when none does."""
    B, T, C = x.shape
    H, D = n_head, C // n_head
    q, k, v = F.linear(x, state["c_attn.weight"], state.get("c_attn.bias")).split(C, dim=-1)

    def heads(t, how="right"):
        return {"right": lambda: t.view(B, T, H, D).transpose(1, 2), "reshape": lambda: t.reshape(B, H, T, D),
                "interleaved": lambda: t.view(B, T, D, H).permute(0, 3, 1, 2)}[how]()

    def merged(y, how="right"):
        return {"right": lambda: y.transpose(1, 2).reshape(B, T, C), "reshape": lambda: y.reshape(B, T, C),
                "interleaved": lambda: y.permute(0, 2, 3, 1).reshape(B, T, C)}[how]()

    def variant(split="right", merge="right", order=(0, 1, 2), scale=math.sqrt(D), proj=True, m=mask):
        qs, ks, vs = (heads((q, k, v)[i], split) for i in order)
        scores = qs @ ks.transpose(-2, -1) / scale
        if m is not None:
            scores = scores.masked_fill(~m, -math.inf)
        y = merged(safe_softmax(scores) @ vs, merge)
        return F.linear(y, state["c_proj.weight"], state.get("c_proj.bias")) if proj else y

    variants = {
        "heads split by reshaping straight to (B, n_head, T, head_dim)? That mixes positions into heads: "
        "view as (B, T, n_head, head_dim), then transpose(1, 2).": lambda: variant(split="reshape", merge="reshape"),
        "heads carved out interleaved (head h got channels h, h + n_head, ...)? Head h owns the contiguous block of "
        "channels [h * head_dim, (h + 1) * head_dim): view as (B, T, n_head, head_dim), not (B, T, head_dim, n_head).":
            lambda: variant(split="interleaved", merge="interleaved"),
        "heads merged without transposing back? Transpose (B, n_head, T, head_dim) to (B, T, n_head, head_dim) before "
        "reshaping to (B, T, C).": lambda: variant(merge="reshape"),
        "heads merged interleaved? Channels [h * head_dim, (h + 1) * head_dim) of the merged output are head h's: "
        "transpose(1, 2), then view as (B, T, C).": lambda: variant(merge="interleaved"),
        "q, k, v taken from c_attn in the wrong order? The output columns are [q | k | v].": lambda: variant(order=(1, 0, 2)),
        "scores divided by sqrt(d_model)? Each head is an attention over head_dim = d_model // n_head dims.":
            lambda: variant(scale=math.sqrt(C)),
        "scores scaled twice (divided by head_dim instead of sqrt(head_dim))? Lesson 3's attention already divides by "
        "sqrt(head_dim): do not scale q (or k) yourself.": lambda: variant(scale=D),
        "output projection c_proj missing?": lambda: variant(proj=False),
    }
    if mask is not None:
        variants["mask not passed on to the attention?"] = lambda: variant(m=None)
        variants["mask inverted? In this course True means 'may attend' (lesson 3): pass the mask as it is, without ~ "
                 "(torch.nn.MultiheadAttention's attn_mask is the opposite)."] = lambda: variant(m=~mask)
    for mistake, wrong in variants.items():
        try:
            candidate = wrong()
        except RuntimeError:  # a variant whose shapes do not fit this input
            continue
        if candidate.shape == got.shape and torch.allclose(got.detach().double(), candidate, atol=1e-9):
            return mistake
    return ""


# ---------------------------------------------------------------- stage 1: split and merge heads

def split_oracle(x, n_head):
    D = x.size(-1) // n_head
    return torch.stack([x[:, :, h * D:(h + 1) * D] for h in range(n_head)], dim=1)  # head h = channels [hD, hD + D)


def split_hint(got, x, n_head):
    B, T, C = x.shape
    D = C // n_head
    if got.shape == (B, n_head, T, D) and torch.equal(got, x.reshape(B, n_head, T, D)):
        return ("you reshaped (B, T, C) straight to (B, n_head, T, head_dim): that mixes positions into heads. "
                "View as (B, T, n_head, head_dim), then transpose(1, 2).")
    if got.shape == (B, n_head, T, D) and torch.equal(got, x.view(B, T, D, n_head).permute(0, 3, 1, 2)):
        return ("your heads are interleaved: head h got channels h, h + n_head, h + 2 n_head, ... Head h owns the "
                "contiguous block [h * head_dim, (h + 1) * head_dim): view as (B, T, n_head, head_dim), not (B, T, head_dim, n_head).")
    return "head h of token t must hold channels [h * head_dim, (h + 1) * head_dim) of token t."


def merge_hint(got, y):
    B, H, T, D = y.shape
    if got.shape == (B, T, H * D) and torch.equal(got, y.reshape(B, T, H * D)):
        return ("you reshaped (B, H, T, D) straight to (B, T, H * D): transpose(1, 2) back to (B, T, H, D) first "
                "(and .contiguous() or .reshape, since the transpose is not contiguous).")
    if got.shape == (B, T, H * D) and torch.equal(got, y.permute(0, 2, 3, 1).reshape(B, T, H * D)):
        return ("your merged channels are interleaved (dim-major): channels [h * D, (h + 1) * D) must be head h's output. "
                "transpose(1, 2) to (B, T, H, D), then view as (B, T, H * D).")
    return "channels [h * D, (h + 1) * D) of token t must be head h's output for token t."


def test_split_heads_layout():
    x = randn(2, 5, 12, seed=1)
    want = split_oracle(x, 3)
    got = split_heads(x, n_head=3)
    assert got.shape == (2, 3, 5, 4), f"split_heads(x (2, 5, 12), n_head=3) gave {tuple(got.shape)}, expected (B, n_head, T, C // n_head) = (2, 3, 5, 4)"
    if not torch.equal(got, want):
        raise AssertionError(f"split_heads put the wrong numbers in the heads: {split_hint(got, x, 3)}")


def test_merge_heads_inverts_split():
    y = randn(2, 3, 5, 4, seed=2)                       # (B, H, T, D)
    want = torch.cat([y[:, h] for h in range(3)], dim=-1)  # heads side by side along the channels
    got = merge_heads(y)
    assert got.shape == (2, 5, 12), f"merge_heads(y (2, 3, 5, 4)) gave {tuple(got.shape)}, expected (B, T, H * D) = (2, 5, 12)"
    if not torch.equal(got, want):
        raise AssertionError(f"merge_heads put the heads in the wrong places: {merge_hint(got, y)}")
    x = randn(2, 5, 12, seed=3)
    assert torch.equal(merge_heads(split_heads(x, 3)), x), "merge_heads(split_heads(x, n_head)) should give back x exactly"


def test_split_and_merge_any_shape():
    """Property: for any B, T (1 included), n_head (1 and C included), head_dim and dtype."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    split_heads(torch.zeros(1, 1, 2), 2)  # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=40, report_multiple_bugs=False)
    @given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),
           st.sampled_from([torch.float64, torch.float32]), st.integers(0, 2 ** 16))
    def matches(B, T, H, D, dtype, seed):
        x = randn(B, T, H * D, seed=seed, dtype=dtype)
        got = split_heads(x, H)
        want = split_oracle(x, H)
        assert got.shape == want.shape and got.dtype == dtype, (
            f"split_heads(x {tuple(x.shape)} {dtype}, n_head={H}) gave {tuple(got.shape)} {got.dtype}, expected {tuple(want.shape)} {dtype}")
        assert torch.equal(got, want), f"split_heads(x {tuple(x.shape)}, n_head={H}): {split_hint(got, x, H)}"
        y = randn(B, H, T, D, seed=seed + 1, dtype=dtype)
        got = merge_heads(y)
        want = torch.cat([y[:, h] for h in range(H)], dim=-1)
        assert got.shape == want.shape and got.dtype == dtype, (
            f"merge_heads(y {tuple(y.shape)} {dtype}) gave {tuple(got.shape)} {got.dtype}, expected {tuple(want.shape)} {dtype}")
        assert torch.equal(got, want), f"merge_heads(y {tuple(y.shape)}): {merge_hint(got, y)}"

    matches()


def test_split_heads_rejects_indivisible():
    with raises_value_error(r"10.*3|3.*10", "split_heads of 10 channels into 3 heads should raise ValueError naming C (10) and n_head (3)"):
        split_heads(torch.zeros(1, 2, 10), n_head=3)
    with raises_value_error("10", "MultiHeadAttention(d_model=10, n_head=3) should raise ValueError"):
        MultiHeadAttention(d_model=10, n_head=3)
    with raises_value_error("n_head", "MultiHeadAttention(d_model=12, n_head=0) should raise ValueError (the check is given to you, keep it)"):
        MultiHeadAttention(d_model=12, n_head=0)
    x = randn(1, 2, 12, seed=4)
    assert torch.equal(split_heads(x, n_head=3), split_oracle(x, 3)), "split_heads of 12 channels into 3 heads must still work"


# ---------------------------------------------------------------- stage 2: multi-head attention

def test_mha_state_dict_names():
    mha = MultiHeadAttention(d_model=12, n_head=3)
    shapes = {name: tuple(t.shape) for name, t in mha.state_dict().items()}
    want = {"c_attn.weight": (36, 12), "c_attn.bias": (36,), "c_proj.weight": (12, 12), "c_proj.bias": (12,)}
    assert shapes == want, f"state dict {shapes}, expected GPT-2's names and shapes {want}"
    no_bias = set(MultiHeadAttention(12, 3, bias=False).state_dict())
    assert no_bias == {"c_attn.weight", "c_proj.weight"}, f"bias=False gave {sorted(no_bias)}: bias=bias on c_attn and on c_proj"
    mha, state = make_mha(12, 3, seed=1)
    x = randn(2, 5, 12, seed=2)
    want_out, _ = oracle(state, x, 3)
    out = mha(x)
    assert out.shape == (2, 5, 12), f"MultiHeadAttention(12, 3) on x (2, 5, 12) gave {tuple(out.shape)}, expected (2, 5, 12)"
    assert torch.allclose(out, want_out, rtol=0, atol=1e-10), (
        f"MultiHeadAttention(12, 3) differs from a loop over its 3 heads + c_proj by {max_diff(out, want_out):.3g}: "
        f"{likely_mistake(state, x, 3, out) or 'split c_attn(x) into q, k, v, split each into heads, attend, merge, c_proj.'}")


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal"])
def test_mha_matches_loop_over_heads(masked):
    """n_head separate attentions, each on its own rows of c_attn, their outputs side by side, then c_proj."""
    C, H, T = 12, 3, 5
    mha, state = make_mha(C, H, seed=4)
    x = randn(2, T, C, seed=5)
    mask = causal(T) if masked else None
    want, _ = oracle(state, x, H, mask)
    got = mha(x, mask=mask)
    assert got.shape == want.shape, f"out has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    if not torch.allclose(got, want, rtol=0, atol=1e-10):
        mistake = likely_mistake(state, x, H, got, mask) or "split c_attn(x) into q, k, v, split each into heads, attend, merge, c_proj."
        raise AssertionError(f"MultiHeadAttention differs from {H} separate heads + c_proj by {max_diff(got, want):.3g}: {mistake}")


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal"])
def test_mha_matches_torch_multihead_attention(masked):
    """Outputs, per-head weights and gradients (x and every parameter, over two calls) equal PyTorch's."""
    C, H, T = 20, 4, 6  # head_dim 5: sqrt(d_model) and head_dim differ, so the two scaling mistakes are told apart
    mha, state = make_mha(C, H, seed=6)
    torch_mha = nn.MultiheadAttention(C, H, bias=True, batch_first=True).double().eval()
    with torch.no_grad():  # same weights: PyTorch's in_proj is our fused c_attn, its out_proj our c_proj
        torch_mha.in_proj_weight.copy_(state["c_attn.weight"])
        torch_mha.in_proj_bias.copy_(state["c_attn.bias"])
        torch_mha.out_proj.weight.copy_(state["c_proj.weight"])
        torch_mha.out_proj.bias.copy_(state["c_proj.bias"])
    x = randn(3, T, C, seed=7).requires_grad_()
    x_torch = x.detach().clone().requires_grad_()
    mask = causal(T) if masked else None
    grads = [randn(3, T, C, seed=8 + i) for i in range(2)]
    # PyTorch's boolean attn_mask has the opposite polarity: True = NOT allowed.
    want, want_weights = torch_mha(x_torch, x_torch, x_torch, attn_mask=None if mask is None else ~mask,
                                   need_weights=True, average_attn_weights=False)
    for i, g in enumerate(grads):  # two calls: the gradients add up
        got, weights = mha(x, mask=mask, return_weights=True)
        if i == 0:
            if not torch.allclose(got, want, rtol=0, atol=1e-10):
                mistake = likely_mistake(state, x.detach(), H, got, mask) or "split c_attn(x) into q, k, v, split each into heads, attend, merge, c_proj."
                raise AssertionError(f"MultiHeadAttention differs from torch.nn.MultiheadAttention by {max_diff(got, want):.3g}: {mistake}")
            assert weights.shape == (3, H, T, T), f"weights have shape {tuple(weights.shape)}, expected (B, n_head, T, T) = (3, {H}, {T}, {T})"
            assert torch.allclose(weights, want_weights, rtol=0, atol=1e-10), (
                "attention weights differ from torch.nn.MultiheadAttention's per-head weights: return the (B, n_head, T, T) "
                "weights of lesson 3's attention, one map per head")
        (got * g).sum().backward()
    (want * (grads[0] + grads[1])).sum().backward()
    assert x.grad is not None and torch.allclose(x.grad, x_torch.grad, rtol=0, atol=1e-10), (
        "the gradient with respect to x differs from torch.nn.MultiheadAttention's: is something detached?")
    params = dict(mha.named_parameters())
    for name, theirs in (("c_attn.weight", torch_mha.in_proj_weight), ("c_attn.bias", torch_mha.in_proj_bias),
                         ("c_proj.weight", torch_mha.out_proj.weight), ("c_proj.bias", torch_mha.out_proj.bias)):
        grad = params[name].grad
        assert grad is not None, f"no gradient reached {name}: is it used in forward?"
        assert torch.allclose(grad, theirs.grad, rtol=0, atol=1e-10), (
            f"the gradient of {name} differs from torch.nn.MultiheadAttention's by {max_diff(grad, theirs.grad):.3g}: "
            "is part of the computation detached or done in place?")


def test_mha_return_weights_and_mask():
    mha, state = make_mha(12, 3, seed=8)
    x = randn(2, 5, 12, seed=9)
    result = mha(x, mask=causal(5), return_weights=True)
    assert isinstance(result, tuple) and len(result) == 2, "return_weights=True should return (out, weights)"
    out, weights = result
    assert weights.shape == (2, 3, 5, 5), f"weights have shape {tuple(weights.shape)}, expected (B, n_head, T, T) = (2, 3, 5, 5)"
    assert torch.all(weights.triu(1) == 0), "with a causal mask, weights above the diagonal must be 0 in every head: is the mask passed on?"
    _, want_weights = oracle(state, x, 3, causal(5))
    assert torch.allclose(weights, want_weights, rtol=0, atol=1e-10), (
        f"weights differ from each head's softmax(q k^T / sqrt(head_dim)) by {max_diff(weights, want_weights):.3g}")
    plain = mha(x, mask=causal(5))
    assert isinstance(plain, torch.Tensor) and torch.equal(out, plain), "return_weights=False returns out alone, and the same out"
    # Padding mask (B, 1, 1, T): the last token of sequence 0 is padding; no query may attend to it.
    pad = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    pad[0, ..., -1] = False
    _, weights = mha(x, mask=pad, return_weights=True)
    assert torch.all(weights[0, :, :, -1] == 0), "a (B, 1, 1, T) padding mask must broadcast over heads and queries"
    # A mask per head (n_head, T, T), without a batch dim; head 1's query 2 may attend to nothing.
    per_head = torch.rand(3, 5, 5, generator=torch.Generator().manual_seed(10)) > 0.4
    per_head[1, 2] = False
    want, want_weights = oracle(state, x, 3, per_head)
    try:
        out, weights = mha(x, mask=per_head, return_weights=True)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        raise AssertionError(f"a per-head mask (n_head, T, T) = (3, 5, 5) on x (2, 5, 12) failed: {error}: pass the mask on "
                             "as it is, it broadcasts against (B, n_head, T, T); do not add a head dim to a 3-D mask") from None
    assert out.shape == want.shape and weights.shape == want_weights.shape, (
        f"a per-head mask (n_head, T, T) = (3, 5, 5) gave out {tuple(out.shape)} and weights {tuple(weights.shape)}: pass the "
        "mask on as it is, it broadcasts against (B, n_head, T, T); do not add a head dim to a 3-D mask")
    assert torch.allclose(weights, want_weights, rtol=0, atol=1e-10) and torch.allclose(out, want, rtol=0, atol=1e-10), (
        "with a per-head mask (n_head, T, T), head h must use mask[h]: pass the mask on as it is, without reshaping it")


def test_mha_any_shape_and_mask():
    """Property: any B and T (1 included), n_head, head_dim, bias, and every mask form that broadcasts to
    (B, n_head, T, T), with queries that may attend to nothing."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    MultiHeadAttention(2, 1)(torch.zeros(1, 1, 2))  # on a stub, fail here rather than inside hypothesis

    forms = ["none", "(T, T)", "(1, T)", "(B, 1, 1, T)", "(B, 1, T, T)", "(n_head, T, T)", "(B, n_head, T, T)"]

    @settings(max_examples=20, report_multiple_bugs=False)
    @given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.booleans(), st.integers(0, 2 ** 16))
    def matches(B, T, H, D, bias, seed):
        C = H * D
        mha, state = make_mha(C, H, bias=bias, seed=seed)
        x = randn(B, T, C, seed=seed + 1)
        for form in forms:  # every form on every shape
            shape = {"none": None, "(T, T)": (T, T), "(1, T)": (1, T), "(B, 1, 1, T)": (B, 1, 1, T), "(B, 1, T, T)": (B, 1, T, T),
                     "(n_head, T, T)": (H, T, T), "(B, n_head, T, T)": (B, H, T, T)}[form]
            mask = None if shape is None else torch.rand(shape, generator=torch.Generator().manual_seed(seed + 2)) < 0.7
            want, want_weights = oracle(state, x, H, mask)
            where = f"MultiHeadAttention({C}, n_head={H}, bias={bias}) on x {tuple(x.shape)} with " + (
                "no mask" if mask is None else f"a {form} mask {tuple(mask.shape)}")
            try:
                out, weights = mha(x, mask=mask, return_weights=True)
            except NotImplementedError:
                raise
            except RuntimeError as error:
                raise AssertionError(f"{where} failed: {error}: pass the mask on as it is; it broadcasts against the "
                                     "(B, n_head, T, T) scores") from None
            assert out.shape == want.shape and weights.shape == want_weights.shape, (
                f"{where} gave out {tuple(out.shape)} and weights {tuple(weights.shape)}, expected {tuple(want.shape)} and "
                f"{tuple(want_weights.shape)}: pass the mask on as it is; it broadcasts against the (B, n_head, T, T) scores")
            if not torch.allclose(out, want, rtol=0, atol=1e-10):
                raise AssertionError(f"{where}: out differs from a loop over the heads by {max_diff(out, want):.3g}: "
                                     f"{likely_mistake(state, x, H, out, mask) or 'mask[..., i, j]: may query i attend to key j (in each head)'}")
            assert torch.allclose(weights, want_weights, rtol=0, atol=1e-10), (
                f"{where}: weights differ from each head's softmax by {max_diff(weights, want_weights):.3g}")

    matches()


def test_mha_dropout_only_in_training():
    mha, state = make_mha(12, 3, dropout=0.5, seed=10)
    x = randn(2, 5, 12, seed=11)
    want, _ = oracle(state, x, 3, causal(5))
    assert torch.allclose(mha(x, mask=causal(5)), want, rtol=0, atol=1e-10), (
        "in eval() mode dropout must do nothing: pass training=self.training (not True), and use the nn.Dropout modules")
    off, _ = make_mha(12, 3, dropout=0.0, seed=10)
    off.train()
    assert torch.allclose(off(x, mask=causal(5)), want, rtol=0, atol=1e-10), (
        "in train() mode with dropout=0.0 nothing may be dropped: dropout_p is the probability to drop, taken from self.attn_dropout.p")


def test_mha_dropout_placement():
    """Where each dropout sits: attn_dropout on the attention weights (the ones returned, which multiplied v),
    resid_dropout on the output of c_proj; each zeroes with probability p and divides the rest by 1 - p."""
    p, B, T, C, H = 0.25, 4, 16, 16, 4
    D = C // H
    mha, state = make_mha(C, H, dropout=p, seed=12)
    mha.train()
    x = randn(B, T, C, seed=13)
    mask = causal(T)
    _, want_weights = oracle(state, x, H, mask)
    torch.manual_seed(0)
    out, weights = mha(x, mask=mask, return_weights=True)
    assert weights.shape == want_weights.shape, f"weights have shape {tuple(weights.shape)}, expected {tuple(want_weights.shape)}"
    allowed = mask.expand_as(weights)
    kept = (weights != 0) & allowed
    dropped = 1 - kept.sum().item() / allowed.sum().item()
    assert abs(dropped - p) < 0.05, (
        f"in train() mode with dropout={p}, {dropped:.0%} of the attention weights returned were zeroed, expected about {p:.0%}: "
        + ("attn_dropout must act on the attention weights: pass dropout_p=self.attn_dropout.p and training=self.training "
           "to scaled_dot_product_attention, and return the weights it gives back (those that multiplied v)"
           if dropped < 0.01 else "dropout_p is the probability to drop: self.attn_dropout.p"))
    scale = weights[kept] / want_weights[kept]
    assert torch.allclose(scale, torch.full_like(scale, 1 / (1 - p)), rtol=0, atol=1e-9), (
        f"the surviving attention weights should be the softmax weights times 1 / (1 - p) = {1 / (1 - p):.4g}")
    # Given the weights that came back, the rest is fixed: out = resid_dropout(c_proj(merge(weights @ v))).
    v = F.linear(x, state["c_attn.weight"][2 * C:], state["c_attn.bias"][2 * C:]).view(B, T, H, D).transpose(1, 2)
    before = F.linear((weights @ v).transpose(1, 2).reshape(B, T, C), state["c_proj.weight"], state["c_proj.bias"])
    zeroed = (out == 0).float().mean().item()
    assert abs(zeroed - p) < 0.07, (
        f"in train() mode with dropout={p}, {zeroed:.0%} of the output entries were zeroed, expected about {p:.0%}: "
        + ("resid_dropout must act on the output of c_proj, as the last step (is it missing, or applied before c_proj?)"
           if zeroed < 0.01 else "resid_dropout(c_proj(...)) once, with the module's p"))
    survived = out != 0
    assert torch.allclose(out[survived], before[survived] / (1 - p), rtol=0, atol=1e-9), (
        "out should be resid_dropout(c_proj(merge_heads(weights @ v))) with the weights returned: the surviving "
        f"entries differ from c_proj's output / (1 - p) by {max_diff(out[survived], before[survived] / (1 - p)):.3g}")


# ---------------------------------------------------------------- stage 3: counting parameters

@pytest.mark.parametrize("n_head", [1, 3])
def test_mha_any_layout_batch_rows_and_edges(n_head):
    """Generic contract: a transposed (non-contiguous) x gives the oracle's output in float64 and is not changed; row b
    of a batch equals the call on row b alone; batch 1, one token and a single head work."""
    C, B, T = 12, 3, 5
    mha, state = make_mha(C, n_head, seed=62)
    x = randn(T, B, C, seed=63).transpose(0, 1)            # (B, T, C), not contiguous
    before = x.clone()
    want, _ = oracle(state, x.contiguous(), n_head, causal(T))
    try:
        out = mha(x, mask=causal(T))
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        raise AssertionError(
            f"MultiHeadAttention on a transposed (non-contiguous) x {tuple(x.shape)} raised: {str(exc)[:150]}: "
            "nn.Linear takes (B, T, C) as it is; if you flatten, use .reshape, not .view") from None
    assert torch.equal(x, before), "MultiHeadAttention changed the caller's x: never modify the input in place"
    assert out.dtype == DT and torch.allclose(out, want, rtol=0, atol=1e-10), (
        f"MultiHeadAttention(n_head={n_head}) on a non-contiguous float64 x gave {out.dtype}, differing from the oracle by "
        f"{max_diff(out, want):.3g}: the memory layout must not matter, and float64 stays float64")
    for b in (0, B - 1):
        alone = mha(x[b:b + 1], mask=causal(T))
        assert torch.allclose(alone[0], out[b], rtol=0, atol=1e-10), (
            f"row {b} of a batch of {B} differs from the same row alone by {max_diff(alone[0], out[b]):.3g}: nothing may "
            "mix the batch rows (split heads as (B, T, H, D) then transpose(1, 2))")
    one = randn(1, 1, C, seed=64)
    want, _ = oracle(state, one, n_head)
    got = mha(one)
    assert got.shape == (1, 1, C) and torch.allclose(got, want, rtol=0, atol=1e-10), (
        f"MultiHeadAttention(n_head={n_head}) on x (1, 1, {C}) (batch 1, one token) gave {tuple(got.shape)}, expected "
        f"(1, 1, {C}) equal to the oracle: no .squeeze(), and keep every size-1 dim")

@pytest.mark.parametrize("d_model, n_head", [(12, 3), (64, 8), (768, 12)])
def test_count_parameters_closed_form(d_model, n_head):
    mha = MultiHeadAttention(d_model, n_head)
    got = count_parameters(mha)
    want = 4 * d_model ** 2 + 4 * d_model  # c_attn: 3d^2 + 3d, c_proj: d^2 + d
    assert got == want, f"count_parameters(MultiHeadAttention({d_model}, {n_head})) = {got}, expected 4d^2 + 4d = {want}"
    no_bias = count_parameters(MultiHeadAttention(d_model, n_head, bias=False))
    assert no_bias == 4 * d_model ** 2, f"without biases: {no_bias}, expected 4d^2 = {4 * d_model ** 2}"


def test_count_parameters_trainable_only():
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
