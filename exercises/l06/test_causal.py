"""Specs for lesson 6: the causal mask, padding, the cached mask buffer, and causal self-attention.

Oracles: ``torch.tril`` and ``F.scaled_dot_product_attention(is_causal=True)``; the key property is checked
directly: changing a later token leaves every earlier output bit-for-bit the same (``torch.equal``).
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ..l03.attention import scaled_dot_product_attention
from ..l04.multihead import MultiHeadAttention
from .causal import CausalSelfAttention, causal_mask, causal_mask_like, combine_masks


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


DT = torch.float64
_STATES: dict = {}


def _randn(*shape, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=DT)


def _state(d_model: int, bias: bool = True, seed: int = 0) -> dict:
    """Known weights by GPT-2's names: c_attn (3 d_model, d_model) with rows [q | k | v], c_proj (d_model, d_model)."""
    g = _gen(seed)
    state = {"c_attn.weight": torch.randn(3 * d_model, d_model, generator=g, dtype=DT) / d_model ** 0.5,
             "c_proj.weight": torch.randn(d_model, d_model, generator=g, dtype=DT) / d_model ** 0.5}
    if bias:
        state["c_attn.bias"] = torch.randn(3 * d_model, generator=g, dtype=DT)
        state["c_proj.bias"] = torch.randn(d_model, generator=g, dtype=DT)
    return state


def _attention(seed: int = 0, use_sdpa: bool = False, d_model: int = 16, n_head: int = 4, block_size: int = 12,
               bias: bool = True, dropout: float = 0.0):
    """The learner's CausalSelfAttention in float64 and eval mode holding ``_state``'s weights."""
    attn = CausalSelfAttention(d_model, n_head, block_size, bias=bias, dropout=dropout, use_sdpa=use_sdpa)
    state = _state(d_model, bias, seed)
    names = set(attn.state_dict())
    assert names == set(state), (
        f"CausalSelfAttention({d_model}, {n_head}, bias={bias}) has state dict {sorted(names)}, expected "
        f"{sorted(state)}: the parameters of L04's MultiHeadAttention only (the mask buffer is non-persistent)"
    )
    attn.double().load_state_dict(state)
    _STATES[id(attn)] = state  # the spec's own copy of the weights, for its oracles (kept on this side)
    return attn.eval()


def _oracle(state: dict, x: torch.Tensor, n_head: int, mask: torch.Tensor) -> torch.Tensor:
    """Attention in float64 from the spec's weights: mask (..., T, T) True = may attend; a query with no key gets 0."""
    B, T, C = x.shape
    q, k, v = F.linear(x, state["c_attn.weight"], state.get("c_attn.bias")).split(C, dim=-1)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    scores = (q @ k.transpose(-2, -1) / (C // n_head) ** 0.5).masked_fill(~mask, float("-inf"))
    live = mask.expand_as(scores).any(-1, keepdim=True)
    weights = torch.softmax(scores.masked_fill(~live, 0.0), dim=-1) * live
    y = (weights @ v).transpose(1, 2).reshape(B, T, C)
    return F.linear(y, state["c_proj.weight"], state.get("c_proj.bias"))


def _oracle_mask(T: int, padding: torch.Tensor | None = None) -> torch.Tensor:
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    return mask if padding is None else mask & padding[:, None, None, :]


def _diagnose(got: torch.Tensor) -> str:
    T = got.shape[-1]
    ones = torch.ones(T, T, dtype=torch.bool)
    known = {
        "the diagonal is missing: a token must see itself (tril(), not tril(-1))": ones.tril(-1),
        "one step of the future is visible (tril(1)): position t sees token t + 1": ones.tril(1),
        "that is the upper triangle: each token sees the future and not the past": ones.triu(),
    }
    for message, wrong in known.items():
        if got.shape == wrong.shape and torch.equal(got.bool(), wrong):
            return message
    return "expected True on and below the diagonal (key s <= query t)"


# --- Stage 1: the mask -------------------------------------------------------------------------------


@pytest.mark.parametrize("T", [1, 2, 5, 8])
def test_causal_mask_values(T):
    got = causal_mask(T)
    want = torch.ones(T, T, dtype=torch.bool).tril()
    assert got.shape == (T, T), f"causal_mask({T}) should have shape ({T}, {T}), got {tuple(got.shape)}"
    assert got.dtype == torch.bool, (
        f"causal_mask should be a bool tensor (True = may attend), got {got.dtype}; "
        "an additive 0/-inf float mask is another convention, not this course's"
    )
    assert torch.equal(got, want), f"causal_mask({T}) is wrong: {_diagnose(got)}\ngot:\n{got.int()}"


def test_causal_mask_matches_fused_kernel():
    g = _gen(1)
    q, k, v = (torch.randn(2, 3, 7, 8, generator=g) for _ in range(3))
    got = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(7))
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(got, want, atol=1e-6), (
        "attention with causal_mask(7) differs from PyTorch's is_causal=True: " + _diagnose(causal_mask(7))
    )


def test_causal_mask_device():
    got = causal_mask(4, device="meta")
    assert got.device.type == "meta", (
        f"causal_mask(4, device='meta') came back on {got.device}: create the tensor on the given device "
        "(torch.ones(..., device=device)); moving it after the fact costs a copy on a GPU"
    )
    x = torch.empty(2, 5, 3, device="meta")
    like = causal_mask_like(x)
    assert like.device.type == "meta" and like.shape == (5, 5) and like.dtype == torch.bool, (
        f"causal_mask_like(x of shape (2, 5, 3) on meta) should be a bool (5, 5) mask on meta, got "
        f"{like.dtype} {tuple(like.shape)} on {like.device}: T is x.shape[-2], the device is x.device"
    )
    cpu = causal_mask_like(torch.zeros(3, 4, dtype=torch.float64))
    assert torch.equal(cpu, torch.ones(3, 3, dtype=torch.bool).tril()), (
        "causal_mask_like(x of shape (3, 4)) should be the 3 x 3 causal mask (T is the second-to-last dim)"
    )
    four = causal_mask_like(torch.zeros(2, 3, 5, 4))
    assert torch.equal(four, torch.ones(5, 5, dtype=torch.bool).tril()), (
        f"causal_mask_like(x of shape (2, 3, 5, 4), heads split) should be the 5 x 5 causal mask, got shape "
        f"{tuple(four.shape)}: T is x.shape[-2] whatever the number of leading dims, not x.shape[1]"
    )
    with pytest.raises(ValueError):
        causal_mask(0)


# --- Stage 2: combining with a padding mask ----------------------------------------------------------


def test_combine_masks_values():
    padding = torch.tensor([[False, False, True, True, True], [True, True, True, True, False]])
    got = combine_masks(causal_mask(5), padding)
    assert got.shape == (2, 1, 5, 5) and got.dtype == torch.bool, (
        f"combine_masks((5, 5), (2, 5)) should give a bool (B, 1, T, T) = (2, 1, 5, 5) mask, got "
        f"{got.dtype} {tuple(got.shape)} (the 1 broadcasts over the heads)"
    )
    for b in range(2):
        for t in range(5):
            for s in range(5):
                want = s <= t and bool(padding[b, s])
                assert bool(got[b, 0, t, s]) == want, (
                    f"combined[{b}, 0, query {t}, key {s}] is {bool(got[b, 0, t, s])}, expected {want}: a query "
                    "may attend to a key that is in its past AND real; padding acts on the KEY axis (the last)"
                )


def test_fully_masked_rows_give_zeros():
    # Left padding: the first two queries of sequence 0 have no real key to look at.
    padding = torch.tensor([[False, False, True, True, True], [True, True, True, True, True]])
    mask = combine_masks(causal_mask(5), padding)
    g = _gen(2)
    q, k, v = (torch.randn(2, 2, 5, 4, generator=g) for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.isfinite(out).all(), "attention with the combined mask produced NaN/inf"
    assert torch.equal(weights[0, :, :2], torch.zeros(2, 2, 5)), (
        "queries whose keys are all padding should get all-zero weights (and output 0)"
    )
    # The real tokens of sequence 0 must attend exactly as if the padding were not there.
    alone, _ = scaled_dot_product_attention(q[0, :, 2:], k[0, :, 2:], v[0, :, 2:], causal_mask(3))
    assert torch.allclose(out[0, :, 2:], alone, atol=1e-6), (
        "with left padding, the real tokens should attend exactly as in the unpadded sequence: "
        "is the padding mask applied to the keys (last axis)?"
    )


# --- Stage 3: the cached mask buffer -----------------------------------------------------------------


def test_mask_is_a_non_persistent_buffer():
    attn = CausalSelfAttention(8, 2, block_size=6)
    assert isinstance(attn, MultiHeadAttention), "CausalSelfAttention should subclass L04's MultiHeadAttention"
    buffers = dict(attn.named_buffers())
    assert "mask" in buffers, (
        "the causal mask should be registered as a buffer named 'mask' (self.register_buffer('mask', ...)), "
        f"found buffers {sorted(buffers)}"
    )
    mask = buffers["mask"]
    assert mask.shape == (1, 1, 6, 6) and mask.dtype == torch.bool, (
        f"the mask buffer should be bool of shape (1, 1, block_size, block_size) = (1, 1, 6, 6), got "
        f"{mask.dtype} {tuple(mask.shape)}"
    )
    assert torch.equal(mask[0, 0], torch.ones(6, 6, dtype=torch.bool).tril()), "the mask buffer is not causal"
    keys = sorted(attn.state_dict())
    assert keys == sorted(MultiHeadAttention(8, 2).state_dict()), (
        f"state_dict() should hold only the parameters (c_attn, c_proj), got {keys}: register the mask with "
        "persistent=False, so checkpoints carry no mask and stay GPT-2 compatible"
    )
    moved = attn.to("meta")
    assert moved.mask.device.type == "meta", (
        f"after .to('meta') the mask is still on {moved.mask.device}: a plain tensor attribute does not move "
        "with the module, a registered buffer does"
    )


def test_forward_follows_the_mask_buffer():
    """forward reads the top-left (T, T) corner of the buffer ``mask``, with and without padding: swap in another
    mask (query t may see keys t - 2 .. t, and key 0) and the attention must follow it."""
    block_size, T = 8, 6
    custom = torch.ones(block_size, block_size, dtype=torch.bool).tril() & ~torch.ones(
        block_size, block_size, dtype=torch.bool).tril(-3)
    custom[:, 0] = True
    custom = custom.tril()
    x = _randn(2, T, 16, seed=3)
    padding = torch.tensor([[False, True, True, True, True, True], [True] * T])
    for use_sdpa in (False, True):
        attn = _attention(3, use_sdpa=use_sdpa, block_size=block_size)
        attn.mask = custom.view(1, 1, block_size, block_size)
        for pad in (None, padding):
            mask = custom[:T, :T] if pad is None else custom[:T, :T] & pad[:, None, None, :]
            want = _oracle(_STATES[id(attn)], x, 4, mask)
            got, weights = attn(x, pad, return_weights=True)
            assert torch.allclose(got, want, rtol=0, atol=1e-10), (
                f"(use_sdpa={use_sdpa}, padding {'on' if pad is not None else 'off'}) after the buffer `mask` was "
                "replaced by another (1, 1, block_size, block_size) mask, forward did not follow it (off by "
                f"{(got - want).abs().max():.2e}): slice the cached buffer, self.mask[:, :, :T, :T], and combine "
                "THAT corner with the padding mask; do not build a new causal mask in forward"
            )
            assert torch.all(weights[~mask.expand_as(weights)] == 0), (
                "the attention weights returned should be zero exactly where the buffer's corner (and the padding) "
                "forbid a key"
            )
            if not use_sdpa:  # the hand-written path, also when no weights are asked for
                got = attn(x, pad)
                assert torch.allclose(got, want, rtol=0, atol=1e-10), (
                    f"(use_sdpa=False, padding {'on' if pad is not None else 'off'}, return_weights=False) after the "
                    "buffer `mask` was replaced by another mask, forward did not follow it (off by "
                    f"{(got - want).abs().max():.2e}): with use_sdpa=False forward must take the hand-written path "
                    "(L04's attention with the buffer's corner) whether or not the weights are returned; only "
                    "use_sdpa=True without return_weights runs F.scaled_dot_product_attention"
                )


def _randn(*shape, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=DT)


# --- Stage 4: causal self-attention ------------------------------------------------------------------


def _fused_reference(attn: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """PyTorch's is_causal attention with the spec's weights (kept by ``_attention``, never the module's own tensors)."""
    B, T, C = x.shape
    H = 4
    state = _STATES[id(attn)]
    q, k, v = F.linear(x, state["c_attn.weight"], state["c_attn.bias"]).split(C, dim=-1)
    q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return F.linear(y.transpose(1, 2).reshape(B, T, C), state["c_proj.weight"], state["c_proj.bias"])


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_causal_attention_matches_torch(use_sdpa):
    attn = _attention(4, use_sdpa=use_sdpa)
    for T in (1, 5, 12):
        x = _randn(3, T, 16, seed=T)
        got = attn(x)
        want = _fused_reference(attn, x)
        assert got.shape == (3, T, 16), f"output shape should be (3, {T}, 16), got {tuple(got.shape)}"
        assert torch.allclose(got, want, atol=1e-5), (
            f"CausalSelfAttention(use_sdpa={use_sdpa}) at T={T} differs from PyTorch's is_causal attention by "
            f"{(got - want).abs().max():.2e}: slice the mask to the sequence, mask[:, :, :T, :T]"
        )
    with pytest.raises(ValueError):
        attn(_randn(1, 13, 16))


def test_attention_weights_are_causal():
    attn = _attention(5)
    out, weights = attn(_randn(2, 6, 16, seed=5), return_weights=True)
    assert weights.shape == (2, 4, 6, 6), f"weights should be (B, n_head, T, T) = (2, 4, 6, 6), got {tuple(weights.shape)}"
    future = ~torch.ones(6, 6, dtype=torch.bool).tril()
    assert torch.equal(weights[..., future], torch.zeros_like(weights[..., future])), (
        "some attention weight on a FUTURE key is not zero: mask the scores before the softmax"
    )
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 6, dtype=DT), atol=1e-6), "each row of weights should sum to 1"
    assert torch.all(weights[..., 0, 0] == 1), "the first token can only see itself: its weight on itself must be 1"


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_future_tokens_do_not_leak(use_sdpa):
    attn = _attention(6, use_sdpa=use_sdpa)
    x = _randn(2, 10, 16, seed=6)
    out = attn(x)
    g = _gen(7)
    for t in (0, 3, 8):
        changed = x.clone()
        changed[:, t + 1 :] = torch.randn(2, 10 - t - 1, 16, generator=g, dtype=DT) * 10
        out_changed = attn(changed)
        assert torch.equal(out[:, : t + 1], out_changed[:, : t + 1]), (
            f"(use_sdpa={use_sdpa}) changing the tokens after position {t} changed the outputs at positions "
            f"0..{t} (by up to {(out[:, : t + 1] - out_changed[:, : t + 1]).abs().max():.2e}): the future leaks "
            "into the past; each query t may only see keys 0..t"
        )
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(attn(x)[:, 4].sum(), x)
    assert torch.all(grad[:, 5:] == 0), (
        f"(use_sdpa={use_sdpa}) the output at position 4 has a nonzero gradient with respect to later tokens"
    )


# --- Stage 5: padding and the fused path -------------------------------------------------------------


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_padding_mask(use_sdpa):
    attn = _attention(8, use_sdpa=use_sdpa)
    real = _randn(1, 4, 16, seed=8)
    pads = _randn(1, 3, 16, seed=9)
    x = torch.cat([torch.cat([pads, real], dim=1), _randn(1, 7, 16, seed=10)]).requires_grad_(True)
    padding = torch.tensor([[False] * 3 + [True] * 4, [True] * 7])
    out = attn(x, padding)
    assert torch.isfinite(out).all(), f"(use_sdpa={use_sdpa}) padded positions produced NaN/inf"
    alone = attn(real)
    assert torch.allclose(out[:1, 3:], alone, atol=1e-5), (
        f"(use_sdpa={use_sdpa}) with left padding the real tokens should give the same outputs as the "
        f"unpadded sequence (off by {(out[:1, 3:] - alone).abs().max():.2e}): is the padding mask applied?"
    )
    assert torch.allclose(out[1:], attn(x[1:].detach()), atol=1e-5), "a sequence without padding should be unchanged"
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.isfinite(grad).all(), f"(use_sdpa={use_sdpa}) the gradient through fully masked rows is NaN"
    _, weights = attn(x, padding, return_weights=True)
    assert torch.equal(weights[0, :, :3], torch.zeros(4, 3, 7, dtype=DT)), (
        "padded queries that see only padding should have all-zero attention weights"
    )


def test_fused_path_equals_hand_written():
    hand = _attention(11, use_sdpa=False)
    fused = _attention(11, use_sdpa=True)
    fused.load_state_dict(hand.state_dict())
    x = _randn(3, 9, 16, seed=11)
    padding = torch.ones(3, 9, dtype=torch.bool)
    padding[0, :4] = False
    padding[2, :1] = False
    for pad in (None, padding):
        got, want = fused(x, pad), hand(x, pad)
        assert torch.allclose(got, want, atol=1e-5), (
            f"use_sdpa=True differs from the hand-written path by {(got - want).abs().max():.2e} "
            f"(padding {'on' if pad is not None else 'off'}): with a padding mask pass the combined mask as "
            "attn_mask (and is_causal=False); without one, is_causal=True"
        )
    out, weights = fused(x, return_weights=True)
    assert weights.shape == (3, 4, 9, 9), "use_sdpa=True with return_weights=True should still return the weights"


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_dropout_where_it_sits(use_sdpa):
    """Dropout (probability p, only in train mode) on the attention weights and on the output of c_proj, in both
    paths: eval() equals the oracle exactly; train() zeroes about p of the outputs and changes the rest."""
    p, T = 0.25, 10
    attn = _attention(12, use_sdpa=use_sdpa, dropout=p)
    state = _STATES[id(attn)]
    x = _randn(4, T, 16, seed=12)
    clean = _oracle(state, x, 4, _oracle_mask(T))
    got = attn(x)
    assert torch.allclose(got, clean, rtol=0, atol=1e-10), (
        f"(use_sdpa={use_sdpa}) in eval() mode with dropout={p} the output differs from dropout-free attention by "
        f"{(got - clean).abs().max():.2e}: dropout only in training, dropout_p=self.attn_dropout.p if self.training "
        "else 0.0"
    )
    noisy = attn.train()(x)
    zeroed = (noisy == 0).double().mean().item()
    assert abs(zeroed - p) < 0.06, (
        f"(use_sdpa={use_sdpa}) in train() mode with dropout={p}, {zeroed:.0%} of the outputs are exactly 0, "
        f"expected about {p:.0%}: resid_dropout acts on the output of c_proj, as the last step "
        "(return self.resid_dropout(self.c_proj(merge_heads(y))))"
    )
    kept = noisy != 0
    kept[:, 0] = False  # position 0 sees only itself: its attention weight 1 is dropped or scaled as a whole
    unchanged = torch.isclose(noisy[kept], clean[kept] / (1 - p), rtol=0, atol=1e-9).double().mean().item()
    assert unchanged < 0.5, (
        f"(use_sdpa={use_sdpa}) in train() mode with dropout={p}, {unchanged:.0%} of the surviving outputs equal "
        "the dropout-free ones / (1 - p): no dropout acted on the attention weights; pass "
        "dropout_p=self.attn_dropout.p (in training) to F.scaled_dot_product_attention"
    )
