"""Specs for lesson 2's extension: rotary position embeddings (RoPE).

Oracle: the complex-number form of the RoFormer paper (as LLaMA writes it), (x_2i + i x_2i+1) * e^(i m theta_i),
computed here in float64 with ``torch.view_as_complex`` and ``torch.polar``. The property specs draw shapes,
sizes, bases and dtypes with hypothesis (the same examples on every run, see ``exercises/conftest.py``).
"""
import math

import pytest
import torch

from ..spec_helpers import raises_value_error
from .embeddings import apply_rope, rope_cache

DT = torch.float64
BASES = [10000.0, 500000.0, 100.0, 10.0, 2.5]               # the default, LLaMA 3's, and small ones that turn fast


def randn(*shape, seed=0, dtype=DT):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT).to(dtype)


def rope_angles(max_len, d, base=10000.0):
    """m * theta_i in float64, (max_len, d/2), theta_i = base^(-2i / d) written as exp(-2i ln(base) / d)."""
    theta = torch.exp(torch.arange(0, d, 2, dtype=DT) * (-math.log(base) / d))
    return torch.arange(max_len, dtype=DT)[:, None] * theta


def oracle_cache(max_len, d, base=10000.0, dtype=DT):
    angles = rope_angles(max_len, d, base)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rope_oracle(x, base=10000.0):
    """Rotate interleaved pairs of x (..., T, d) as complex numbers: pair i of position m times e^(i m theta_i)."""
    T, d = x.shape[-2:]
    angles = rope_angles(T, d, base)                                  # (T, d/2)
    pairs = torch.view_as_complex(x.to(DT).reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles)).flatten(-2)


def rope_mistake(x, got, base=10000.0):
    """Name the classic RoPE mistake whose output equals ``got``, or return ''."""
    d = x.size(-1)
    # GPT-NeoX's layout: pairs (x[..., i], x[..., i + d/2]) instead of (x[..., 2i], x[..., 2i+1]).
    as_interleaved = torch.stack([x[..., : d // 2], x[..., d // 2:]], dim=-1).flatten(-2)
    rotated = rope_oracle(as_interleaved, base).unflatten(-1, (d // 2, 2))
    halves = torch.cat([rotated[..., 0], rotated[..., 1]], dim=-1)
    # Rotation by -angle: conjugate every pair, rotate, conjugate back.
    flip = torch.ones(d, dtype=DT)
    flip[1::2] = -1
    candidates = {
        "you rotate (x[..., i], x[..., i + d/2]) pairs (GPT-NeoX's rotate_half); this lesson rotates interleaved "
        "pairs (x[..., 2i], x[..., 2i+1])": halves,
        "rotation by -angle: the new even entry is x_even * cos - x_odd * sin, the odd one x_even * sin + x_odd * cos":
            rope_oracle(x * flip, base) * flip,
    }
    if base != 10000.0:
        candidates["the angles of base 10000, not those of the cos and sin you were given: use the cache passed in "
                   "(its first T rows), do not build your own"] = rope_oracle(x)
    for mistake, wrong in candidates.items():
        if torch.allclose(got.to(DT), wrong, atol=1e-6):
            return mistake
    return ""


def check_rope_cache(head_dim, max_len, base):
    """rope_cache(head_dim, max_len, base) against the float64 oracle, naming the likely mistake."""
    call = f"rope_cache({head_dim}, {max_len}, base={base:g})"
    cos, sin = rope_cache(head_dim, max_len, base=base)
    half = head_dim // 2
    assert tuple(cos.shape) == (max_len, half) and tuple(sin.shape) == (max_len, half), (
        f"{call} gave cos {tuple(cos.shape)}, sin {tuple(sin.shape)}, expected (max_len, head_dim // 2) = ({max_len}, {half}) each")
    assert cos.dtype == torch.float32 and sin.dtype == torch.float32, (
        f"{call} gave cos {cos.dtype}, sin {sin.dtype}, expected float32 (the default dtype): compute the angles in float64, "
        "then convert with .to(torch.get_default_dtype())")
    angles = rope_angles(max_len, head_dim, base)
    want_cos, want_sin = angles.cos(), angles.sin()
    bad = ((cos.to(DT) - want_cos).abs() > 1e-6) | ((sin.to(DT) - want_sin).abs() > 1e-6)
    if not bad.any():
        return
    m, i = (int(v) for v in bad.nonzero()[0])
    close = lambda a, b: torch.allclose(a.to(DT), b, atol=1e-6)  # noqa: E731
    theta_i = base ** (-torch.arange(half, dtype=DT) / head_dim)
    one_later = rope_angles(max_len + 1, head_dim, base)[1:]
    err = torch.maximum((cos.to(DT) - want_cos).abs(), (sin.to(DT) - want_sin).abs())
    if close(cos, want_sin) and close(sin, want_cos):
        hint = "cos and sin swapped: return (cos, sin), in that order"
    elif close(cos, one_later.cos()) and close(sin, one_later.sin()):
        hint = "positions start at 0 (row 0 is the angle 0: cos 1, sin 0), not at 1"
    elif close(cos, (torch.arange(max_len, dtype=DT)[:, None] * theta_i).cos()):
        hint = "theta_i = base^(-2i / head_dim) (2i, the even index), not base^(-i / head_dim)"
    elif base != 10000.0 and close(cos, rope_angles(max_len, head_dim).cos()):
        hint = f"the angles of base 10000, not of base {base:g}: use the base argument"
    elif err.max() < 1e-2 and err[: min(max_len, 50)].max() < 1e-5:
        hint = ("small errors that grow with the position: the angles were computed in float32, which keeps ~7 digits "
                "(m * theta_i at m = 10000 is off by ~1e-3); compute theta and the angles in float64 and convert cos and sin at the end")
    else:
        hint = "row m, column i is cos/sin of m * theta_i with theta_i = base^(-2i / head_dim), m from 0"
    raise AssertionError(
        f"{call}: cos/sin[{m}, {i}] = ({cos[m, i].item():.8g}, {sin[m, i].item():.8g}), expected the angle "
        f"{m} * theta_{i} = {angles[m, i].item():.6g}, i.e. ({want_cos[m, i].item():.8g}, {want_sin[m, i].item():.8g}) "
        f"(wrong at {int(bad.any(dim=1).sum())} of {max_len} positions): {hint}")


def test_rope_cache_values():
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    check_rope_cache(8, 20, 10000.0)                          # on a stub, fail here rather than inside hypothesis
    with raises_value_error("7", "an odd head_dim (7) should raise ValueError naming it: RoPE rotates pairs"):
        rope_cache(head_dim=7, max_len=4)

    @settings(max_examples=20, report_multiple_bugs=False, derandomize=True, database=None, deadline=None)
    @given(half=st.integers(1, 64), max_len=st.integers(1, 64), base=st.sampled_from(BASES) | st.floats(1.5, 1e6))
    @example(half=2, max_len=3, base=100.0)                   # theta_1 = 100^(-2/4) = 1/10
    @example(half=1, max_len=5, base=10000.0)                 # head_dim 2: one pair, theta_0 = 1
    def any_cache(half, max_len, base):
        check_rope_cache(2 * half, max_len, base)

    any_cache()


def test_rope_cache_long_positions():
    """Positions in the thousands: the angles must keep their digits (float32 alone loses ~1e-3 at m = 10000)."""
    check_rope_cache(128, 16384, 10000.0)
    check_rope_cache(64, 8192, 500000.0)


def check_apply_rope(x, cos, sin, base, atol=1e-6):
    got = apply_rope(x, cos, sin)
    want = rope_oracle(x, base)
    assert got.shape == x.shape, f"apply_rope(x {tuple(x.shape)}) gave {tuple(got.shape)}, expected the same shape"
    err = (got.to(DT) - want).abs().max().item()
    if err > atol * (1 + x.abs().max().item()):
        hint = rope_mistake(x, got, base) or "pair i of position t turns by angle t * theta_i: (x_2i cos - x_2i+1 sin, x_2i sin + x_2i+1 cos)"
        raise AssertionError(
            f"apply_rope(x {tuple(x.shape)}, cache of {cos.size(0)} rows) differs from the complex rotation by {err:.3g}: {hint}")


@pytest.mark.parametrize("shape", [(6, 8), (2, 3, 6, 8)], ids=["T,d", "B,H,T,d"])
def test_apply_rope_matches_complex_rotation(shape):
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    x = randn(*shape, seed=1)
    cos, sin = rope_cache(head_dim=8, max_len=32)            # a longer cache: use its first T rows
    check_apply_rope(x, cos, sin, 10000.0)                   # on a stub, fail here rather than inside hypothesis
    with raises_value_error("33", "33 positions with a 32-row cache should raise ValueError naming the length"):
        apply_rope(randn(33, 8), cos, sin)                   # longer than the cache

    @settings(max_examples=10, report_multiple_bugs=False, derandomize=True, database=None, deadline=None)
    @given(lead=st.lists(st.integers(1, 3), max_size=2).map(tuple), T=st.integers(1, 12), half=st.integers(1, 16),
           extra=st.integers(0, 5), base=st.sampled_from(BASES), seed=st.integers(0, 2**16))
    @example(lead=(2,), T=5, half=4, extra=3, base=500000.0, seed=0)    # another base: use the cache you are given
    @example(lead=(1, 2), T=1, half=1, extra=0, base=10000.0, seed=0)   # one position, one pair, a cache of exactly T rows
    def any_input(lead, T, half, extra, base, seed):
        cos, sin = oracle_cache(T + extra, 2 * half, base)    # made here in float64, not by your rope_cache
        check_apply_rope(randn(*shape[:-2], *lead, T, 2 * half, seed=seed), cos, sin, base)

    any_input()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64], ids=str)
def test_apply_rope_keeps_dtype(dtype):
    """Mixed precision: x in bfloat16 (or float16) with a float32 cache comes back in x's dtype."""
    x = randn(2, 3, 40, 16, seed=5, dtype=dtype)
    cos, sin = oracle_cache(64, 16, dtype=torch.float32)     # float32, as rope_cache returns it
    got = apply_rope(x, cos, sin)
    assert got.dtype == dtype, (
        f"apply_rope on {dtype} queries with a float32 cache returned {got.dtype}: cast the cache to x's dtype "
        "(cos.to(x.dtype)) so the result keeps the dtype of x; float32 * bfloat16 promotes to float32")
    tol = {torch.float64: 1e-6, torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 6e-2}[dtype]
    err = (got.to(DT) - rope_oracle(x)).abs().max().item()
    assert err < tol * (1 + x.abs().max().item()), (
        f"apply_rope on {dtype} queries differs from the complex rotation by {err:.3g}: rotate each interleaved pair by t * theta_i")


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
    """<rope(q) at m, rope(k) at n> depends only on m - n: RoPE turns absolute positions into relative ones.
    Its value is Re sum_i q_i conj(k_i) e^(i (m - n) theta_i), with q_i = q_2i + i q_2i+1: checked up to m = 8191."""
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

    T, d = 8192, 64
    q, k = randn(d, seed=5), randn(d, seed=6)
    cos, sin = rope_cache(head_dim=d, max_len=T)
    Q, K = apply_rope(q.expand(T, d), cos, sin).to(DT), apply_rope(k.expand(T, d), cos, sin).to(DT)
    qc, kc = torch.view_as_complex(q.reshape(d // 2, 2)), torch.view_as_complex(k.reshape(d // 2, 2))
    scale = q.norm().item() * k.norm().item()
    for offset in (0, 1, 37, 1000):
        want = (qc * kc.conj() * torch.polar(torch.ones(d // 2, dtype=DT), rope_angles(offset + 1, d)[offset])).sum().real.item()
        got = (Q[offset:] * K[: T - offset]).sum(dim=-1)          # query at m = n + offset, key at n, for every n
        worst = int((got - want).abs().argmax())
        err = (got[worst] - want).abs().item()
        assert err < 1e-6 * scale, (
            f"the score of a query at position {worst + offset} and a key at {worst} is {got[worst].item():.6g}, expected "
            f"{want:.6g} (it depends only on m - n = {offset}): off by {err:.3g}. Errors that grow with the position mean "
            "the angles lost digits in float32: compute them in float64 in rope_cache")
