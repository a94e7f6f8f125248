"""Specs for lesson 2's extension: rotary position embeddings (RoPE).

Oracle: the complex-number form of the RoFormer paper, (x_2i + i x_2i+1) * e^(i m theta_i), computed with
``torch.view_as_complex`` and ``torch.polar``.
"""
import math

import pytest
import torch

from ..spec_helpers import raises_value_error
from .embeddings import apply_rope, rope_cache

DT = torch.float64


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


def rope_oracle(x, base=10000.0):
    """Rotate interleaved pairs of x (..., T, d) as complex numbers: pair i of position m times e^(i m theta_i)."""
    T, d = x.shape[-2:]
    theta = base ** (-torch.arange(0, d, 2, dtype=DT) / d)
    angles = torch.arange(T, dtype=DT)[:, None] * theta              # (T, d/2)
    pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles)).flatten(-2)


def rope_mistake(x, got):
    """Name the classic RoPE mistake whose output equals ``got``, or return ''."""
    d = x.size(-1)
    # GPT-NeoX's layout: pairs (x[..., i], x[..., i + d/2]) instead of (x[..., 2i], x[..., 2i+1]).
    as_interleaved = torch.stack([x[..., : d // 2], x[..., d // 2:]], dim=-1).flatten(-2)
    rotated = rope_oracle(as_interleaved).unflatten(-1, (d // 2, 2))
    halves = torch.cat([rotated[..., 0], rotated[..., 1]], dim=-1)
    # Rotation by -angle: conjugate every pair, rotate, conjugate back.
    flip = torch.ones(d, dtype=x.dtype)
    flip[1::2] = -1
    candidates = {
        "you rotate (x[..., i], x[..., i + d/2]) pairs (GPT-NeoX's rotate_half); this lesson rotates interleaved "
        "pairs (x[..., 2i], x[..., 2i+1])": halves,
        "rotation by -angle: the new even entry is x_even * cos - x_odd * sin, the odd one x_even * sin + x_odd * cos":
            rope_oracle(x * flip) * flip,
    }
    for mistake, wrong in candidates.items():
        if torch.allclose(got, wrong, atol=1e-6):
            return mistake
    return ""


def test_rope_cache_values():
    cos, sin = rope_cache(head_dim=8, max_len=20)
    assert cos.shape == (20, 4) and sin.shape == (20, 4), (
        f"rope_cache(8, 20) gave cos {tuple(cos.shape)}, sin {tuple(sin.shape)}, expected (max_len, head_dim // 2) = (20, 4) each")
    for m in (0, 1, 13):
        for i in range(4):
            angle = m * 10000 ** (-2 * i / 8)
            ok = math.isclose(cos[m, i].item(), math.cos(angle), abs_tol=1e-6) and math.isclose(sin[m, i].item(), math.sin(angle), abs_tol=1e-6)
            assert ok, (
                f"cos/sin[{m}, {i}] = ({cos[m, i].item():.6f}, {sin[m, i].item():.6f}), expected the angle m * theta_i = {angle:.6f} "
                f"with theta_i = base^(-2i / head_dim): positions start at 0, and it is 2i, not i")
    cos, sin = rope_cache(head_dim=4, max_len=3, base=100.0)
    assert math.isclose(sin[2, 1].item(), math.sin(2 / 10), abs_tol=1e-6), "use the base argument: theta_1 = base^(-2/4) = 1/10 for base 100"
    with raises_value_error("7", "an odd head_dim (7) should raise ValueError naming it: RoPE rotates pairs"):
        rope_cache(head_dim=7, max_len=4)


@pytest.mark.parametrize("shape", [(6, 8), (2, 3, 6, 8)], ids=["T,d", "B,H,T,d"])
def test_apply_rope_matches_complex_rotation(shape):
    x = randn(*shape, seed=1)
    cos, sin = rope_cache(head_dim=8, max_len=32)                   # a longer cache: use its first T rows
    got = apply_rope(x, cos, sin)
    want = rope_oracle(x)
    assert got.shape == x.shape, f"apply_rope(x {tuple(x.shape)}) gave {tuple(got.shape)}, expected the same shape"
    if not torch.allclose(got, want, atol=1e-6):
        hint = rope_mistake(x, got) or "pair i of position t turns by angle t * theta_i: (x_2i cos - x_2i+1 sin, x_2i sin + x_2i+1 cos)"
        raise AssertionError(f"apply_rope differs from the complex rotation by {(got - want).abs().max():.3g}: {hint}")
    with raises_value_error("33", "33 positions with a 32-row cache should raise ValueError naming the length"):
        apply_rope(randn(33, 8), cos, sin)                         # longer than the cache


def test_apply_rope_preserves_norms():
    x = randn(2, 10, 16, seed=2)
    cos, sin = rope_cache(head_dim=16, max_len=10)
    got = apply_rope(x, cos, sin)
    assert torch.allclose(got[..., 0, :], x[..., 0, :], atol=1e-6), "position 0 turns by angle 0: it must come out unchanged"
    pair_norms = lambda t: t.unflatten(-1, (8, 2)).norm(dim=-1)  # noqa: E731
    assert torch.allclose(pair_norms(got), pair_norms(x), atol=1e-6), (
        "a rotation keeps the length of every (x_2i, x_2i+1) pair: are cos and sin paired with the right entries?")
    assert torch.allclose(got.norm(dim=-1), x.norm(dim=-1), atol=1e-6), "rotating must not change the norm of a query or key"


def test_rope_scores_depend_on_relative_position():
    """<rope(q) at m, rope(k) at n> depends only on m - n: RoPE turns absolute positions into relative ones."""
    T, d = 12, 8
    q, k = randn(d, seed=3), randn(d, seed=4)
    cos, sin = rope_cache(head_dim=d, max_len=T)
    Q = apply_rope(q.expand(T, d), cos, sin)                       # the same query placed at every position
    K = apply_rope(k.expand(T, d), cos, sin)
    scores = Q @ K.T                                               # scores[m, n] = query at m . key at n
    err = (scores[1:, 1:] - scores[:-1, :-1]).abs().max().item()
    assert err < 1e-6, (
        f"moving both the query and the key one position later changed their score by {err:.3g}: rotate position m "
        "by m * theta_i for every pair, the same angles for queries and keys")
    assert not torch.allclose(scores[0, 0], scores[0, 5]), "the score should change with the distance m - n"
