"""Specs for lesson 2: token embedding, sinusoidal and learned positions, their sum.

Oracles: ``torch.nn.functional.embedding`` (values and gradients), the sinusoids computed here in float64
(``sinusoid_oracle``), and rotation matrices built here from the frequencies. The property specs draw
shapes, dtypes and sizes with hypothesis (the same examples on every run, see ``exercises/conftest.py``).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..spec_helpers import raises_value_error
from .embeddings import InputEmbedding, LearnedPositionalEmbedding, TokenEmbedding, sinusoidal_positional_encoding

INT_DTYPES = [torch.int64, torch.int32, torch.int16, torch.uint8]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def random_ids(shape, vocab_size, dtype=torch.int64, seed=0):
    """Ids in [0, vocab_size) with both ends of the range present whenever there is room for them."""
    ids = torch.randint(0, vocab_size, shape, generator=gen(seed))
    flat = ids.view(-1)
    if flat.numel() >= 2:
        flat[0], flat[-1] = 0, vocab_size - 1
    return ids.to(dtype)


def dtype_hint(ids):
    """What to say when small integer ids go wrong."""
    if ids.dtype in (torch.int64, torch.int32):
        return ""
    return (f" PyTorch indexes with int64 or int32 ids only: a uint8 index is read as a mask and int16 or int8 cannot "
            f"index at all, so convert {ids.dtype} ids with ids.long() before the lookup.")


def look_up(emb, ids, what="TokenEmbedding", hint="index with the ids as they are, whatever their shape (self.weight[ids])"):
    """emb(ids), with a failure that names the likely mistake when valid ids raise."""
    try:
        return emb(ids)
    except NotImplementedError:                              # a stub: "not implemented", not a wrong answer
        raise
    except ValueError as exc:
        raise AssertionError(
            f"{what}(ids) raised ValueError for valid ids of dtype {ids.dtype}, shape {tuple(ids.shape)}: {exc}. "
            "Any integer dtype (int64, int32, int16, uint8) is valid: reject only float, bool and complex ids"
            + ("; and convert them with ids.long() before the range check: in uint8, ids >= 256 compares with 256 wrapped to 0"
               if ids.dtype not in (torch.int64, torch.int32) else "")
        ) from None
    except (RuntimeError, IndexError) as exc:
        empty = ids.numel() == 0
        raise AssertionError(
            f"{what}(ids) failed for ids of dtype {ids.dtype}, shape {tuple(ids.shape)}: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160].rstrip('.')}. "
            + ("There are no ids: ids.min() of an empty tensor raises, so check ids.numel() > 0 before the range check"
               if empty else dtype_hint(ids) or hint)
        ) from None


# ---------------------------------------------------------------- stage 1: token embedding

def test_token_embedding_matches_f_embedding():
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    torch.manual_seed(0)
    emb = TokenEmbedding(vocab_size=50, d_model=8)
    assert isinstance(emb.weight, nn.Parameter) and emb.weight.shape == (50, 8), "TokenEmbedding.weight should be a (vocab_size, d_model) nn.Parameter"
    ids = random_ids((2, 7), 50, seed=1)
    got = look_up(emb, ids)                                  # on a stub, fail here rather than inside hypothesis
    assert got.shape == (2, 7, 8), f"ids of shape (2, 7) gave {tuple(got.shape)}, expected (*ids.shape, d_model) = (2, 7, 8)"
    assert torch.equal(got, F.embedding(ids, emb.weight)), "TokenEmbedding(ids) differs from F.embedding(ids, weight): row i of weight is the vector of token i"
    big = TokenEmbedding(vocab_size=1000, d_model=64).weight
    assert abs(big.std().item() - 0.02) < 0.002 and abs(big.mean().item()) < 0.002, (
        f"weight should start as normal(0, 0.02) like GPT-2's, got mean {big.mean().item():.4f}, std {big.std().item():.4f}")

    @settings(max_examples=25, report_multiple_bugs=False, derandomize=True, database=None, deadline=None)
    @given(
        vocab_size=st.integers(1, 300), d_model=st.integers(1, 24),
        shape=st.lists(st.integers(0, 5), min_size=1, max_size=3).map(tuple),
        dtype=st.sampled_from(INT_DTYPES), double=st.booleans(), seed=st.integers(0, 2**16),
    )
    @example(vocab_size=7, d_model=3, shape=(2, 0), dtype=torch.int64, double=False, seed=0)      # no tokens at all
    @example(vocab_size=7, d_model=3, shape=(0,), dtype=torch.int64, double=False, seed=0)
    @example(vocab_size=300, d_model=4, shape=(3, 5), dtype=torch.int32, double=False, seed=0)   # int32 ids
    @example(vocab_size=200, d_model=4, shape=(2, 2, 3), dtype=torch.uint8, double=True, seed=0)
    @example(vocab_size=256, d_model=2, shape=(4, 64), dtype=torch.uint8, double=False, seed=0)  # uint8 ids up to 255
    def any_ids(vocab_size, d_model, shape, dtype, double, seed):
        if dtype == torch.uint8:
            vocab_size = min(vocab_size, 256)
        torch.manual_seed(seed)
        emb = TokenEmbedding(vocab_size=vocab_size, d_model=d_model)
        if double:
            emb = emb.double()
        ids = random_ids(shape, vocab_size, dtype, seed)
        got = look_up(emb, ids)
        want = F.embedding(ids.long(), emb.weight)
        assert got.shape == want.shape, (
            f"ids of shape {tuple(ids.shape)} gave {tuple(got.shape)}, expected {tuple(want.shape)} = (*ids.shape, d_model): "
            "index with the ids as they are (self.weight[ids]), without flattening or assuming (B, T)." + dtype_hint(ids))
        assert got.dtype == want.dtype, (
            f"the output is {got.dtype} but weight is {want.dtype}: return the rows of weight as they are, without a cast")
        assert torch.equal(got, want), (
            f"TokenEmbedding(ids) differs from F.embedding(ids, weight) for ids of shape {tuple(ids.shape)} and dtype {ids.dtype} "
            f"(vocab_size {vocab_size}): row i of weight is the vector of token i, for ids 0 and vocab_size - 1 too." + dtype_hint(ids))

    any_ids()


def test_token_embedding_gradient_only_on_looked_up_rows():
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    torch.manual_seed(0)
    emb = TokenEmbedding(vocab_size=20, d_model=6).double()
    ids = torch.tensor([[3, 7, 3], [0, 19, 7]])             # 3 and 7 appear twice
    out = emb(ids)
    assert out.requires_grad, "the output does not require grad: index the parameter itself (self.weight[ids]), not weight.data or a detached copy"

    @settings(max_examples=15, report_multiple_bugs=False, derandomize=True, database=None, deadline=None)
    @given(
        vocab_size=st.integers(2, 40), d_model=st.integers(1, 8), batch=st.integers(1, 4), seq=st.integers(1, 12),
        distinct=st.integers(1, 6), pad=st.integers(0, 12), seed=st.integers(0, 2**16),
    )
    @example(vocab_size=20, d_model=6, batch=2, seq=3, distinct=3, pad=0, seed=2)
    @example(vocab_size=5, d_model=3, batch=3, seq=10, distinct=1, pad=8, seed=0)    # one id everywhere, mostly padding
    def any_batch(vocab_size, d_model, batch, seq, distinct, pad, seed):
        torch.manual_seed(seed)
        emb = TokenEmbedding(vocab_size=vocab_size, d_model=d_model).double()
        # few distinct ids, so most rows repeat; the last `pad` positions are the padding id 0
        pool = torch.randperm(vocab_size, generator=gen(seed))[:distinct]
        ids = pool[torch.randint(0, len(pool), (batch, seq), generator=gen(seed + 1))]
        ids[:, seq - min(pad, seq):] = 0
        upstream = torch.randn(batch, seq, d_model, generator=gen(seed + 2), dtype=torch.float64)
        out = emb(ids)
        assert out.requires_grad, "the output does not require grad: index the parameter itself (self.weight[ids]), not weight.data or a detached copy"
        (out * upstream).sum().backward()
        assert emb.weight.grad is not None, "no gradient reached weight: index the parameter itself (self.weight[ids])"
        weight = emb.weight.detach().clone().requires_grad_(True)
        (F.embedding(ids, weight) * upstream).sum().backward()
        untouched = [i for i in range(vocab_size) if i not in ids]
        assert torch.all(emb.weight.grad[untouched] == 0), "rows of tokens that were not looked up must get no gradient"
        err = (emb.weight.grad - weight.grad).abs().max().item()
        assert err < 1e-10, (
            f"the gradient differs from F.embedding's by {err:.3g} (ids {ids.tolist()}): a token that appears several "
            "times (the padding id 0, say) must get the sum of all its upstream gradients; index self.weight[ids] and let autograd sum")

    any_batch()


def test_token_embedding_rejects_bad_ids():
    torch.manual_seed(0)
    emb = TokenEmbedding(vocab_size=10, d_model=4)
    with raises_value_error("10", "token id 10 with vocab_size 10 should raise ValueError naming the bad id (check ids.max() < vocab_size)"):
        emb(torch.tensor([[1, 10]]))                        # one past the end
    with raises_value_error("-1", "token id -1 should raise ValueError naming it: weight[-1] would silently return the last row"):
        emb(torch.tensor([[-1, 2]]))                        # weight[-1] would silently be the last row
    with raises_value_error("-3", "token id -3 in 1-D int32 ids should raise ValueError naming it: check the range for any shape and integer dtype"):
        emb(torch.tensor([4, -3], dtype=torch.int32))
    with raises_value_error("12", "token id 12 in 3-D ids should raise ValueError naming it: check the range for any shape"):
        emb(torch.tensor([[[0, 1]], [[12, 2]]]))
    with raises_value_error("-1", "a single token id -1 (a 0-d tensor) should raise ValueError naming it: weight[-1] would "
                                  "silently return the last row; check the range whenever there is at least one id "
                                  "(ids.numel() > 0), one id included"):
        emb(torch.tensor(-1))
    with raises_value_error("10", "a single token id 10, ids of shape (1, 1), with vocab_size 10 should raise ValueError "
                                  "naming it: check the range whenever there is at least one id (ids.numel() > 0)"):
        emb(torch.tensor([[10]]))
    with raises_value_error("dtype", "float ids should raise ValueError naming the dtype: token ids are integers"):
        emb(torch.tensor([[1.0, 2.0]]))                     # ids are integers
    with raises_value_error("bool", "bool ids should raise ValueError naming the dtype (torch.bool): weight[mask] would select rows "
                                    "by mask instead of looking up tokens; reject ids.dtype == torch.bool as well as floats"):
        emb(torch.tensor([True, False] * 5))                # one entry per vocab row: weight[mask] would quietly give 5 rows
    with raises_value_error("complex", "complex ids should raise ValueError naming the dtype: token ids are integers"):
        emb(torch.tensor([1 + 0j, 2 + 0j]))


# ---------------------------------------------------------------- stage 2: sinusoidal positional encoding

def sinusoid_oracle(max_len, d):
    """PE in float64, written independently: w_i = exp(-2i ln(10000) / d); sin at column 2i, cos at 2i + 1."""
    angles = torch.arange(max_len, dtype=torch.float64)[:, None] * torch.exp(
        torch.arange(d // 2, dtype=torch.float64) * (-2.0 * math.log(10000.0) / d))
    return torch.stack((angles.sin(), angles.cos()), dim=-1).flatten(-2)


def interleave(even, odd):
    return torch.stack((even, odd), dim=-1).flatten(-2)


def listed(values, most=6):
    values = [int(v) for v in values]
    return ", ".join(map(str, values[:most])) + (f", ... ({len(values)} in all)" if len(values) > most else "")


def sinusoid_mistake(got, max_len, d):
    """Name the classic mistake whose table equals ``got`` (float64), or return ''."""
    p = torch.arange(max_len, dtype=torch.float64)[:, None]
    w = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    a = p * w
    close = lambda t: t.shape == got.shape and torch.allclose(got, t, atol=1e-6)  # noqa: E731
    candidates = [
        (interleave(a.cos(), a.sin()), "sin and cos swapped: sin goes in the even columns, cos in the odd ones"),
        (torch.cat((a.sin(), a.cos()), dim=-1),
         "sines in the first half and cosines in the second: this lesson interleaves them (PE[p, 2i] = sin, PE[p, 2i+1] = cos)"),
        (interleave((a + w).sin(), (a + w).cos()), "positions start at 0 (the first token has PE = [0, 1, 0, 1, ...]), not at 1"),
        (interleave(a.sin(), a.sin()), "sin in the odd columns too: PE[:, 1::2] is the cos of the same angles"),
        (interleave(a.cos(), a.cos()), "cos in the even columns too: PE[:, 0::2] is the sin of the same angles"),
    ]
    wi = 10000.0 ** (-torch.arange(d // 2, dtype=torch.float64) / d)
    candidates.append((interleave((p * wi).sin(), (p * wi).cos()),
                       "the exponent is 2i / d_model (2i, the even column index), not i / d_model"))
    for want, mistake in candidates:
        if close(want):
            return mistake
    err = (got - interleave(a.sin(), a.cos())).abs()
    if err.max() < 1e-2 and err[: min(max_len, 50)].max() < 1e-5:
        return ("small errors that grow with the position: the angles were computed in float32, which keeps ~7 digits "
                "(p * w_i at p = 10000 is off by ~1e-3); compute positions, frequencies and angles in float64 and convert the "
                "table at the end (pe.to(torch.get_default_dtype()))")
    return ""


def check_sinusoid(pe, max_len, d, atol=1e-6):
    """Compare a learner's table with the oracle, column by column: a message that says which columns are wrong where."""
    head = f"sinusoidal_positional_encoding({max_len}, {d})"
    assert tuple(pe.shape) == (max_len, d), f"{head} has shape {tuple(pe.shape)}, expected (max_len, d_model) = ({max_len}, {d})"
    assert pe.dtype == torch.float32, (
        f"{head} is {pe.dtype}, expected float32 (the default dtype): compute in float64, then pe.to(torch.get_default_dtype())")
    want = sinusoid_oracle(max_len, d)
    got = pe.double()
    bad = (got - want).abs() > atol
    if not bad.any():
        return
    parts = []
    for kind, start in (("even (sin)", 0), ("odd (cos)", 1)):
        cols = bad[:, start::2]
        if not cols.any():
            parts.append(f"{kind} columns right")
            continue
        rows = cols.any(dim=1).nonzero().flatten()
        pairs = cols.any(dim=0).nonzero().flatten()
        p, i = int(rows[0]), int(cols[rows[0]].nonzero()[0])
        fn = "sin" if start == 0 else "cos"
        parts.append(
            f"{kind} columns {listed(2 * pairs + start, 3)} wrong at positions {listed(rows, 3)} "
            f"(PE[{p}, {2 * i + start}] = {got[p, 2 * i + start].item():.8g}, expected {fn}({p} * w_{i}) = {want[p, 2 * i + start].item():.8g})")
    hint = sinusoid_mistake(got, max_len, d) or (
        "PE[p, 2i] = sin(p * w_i) and PE[p, 2i+1] = cos(p * w_i), with w_i = 10000^(-2i / d_model) and p from 0")
    raise AssertionError(f"{head}: {'; '.join(parts)}: {hint}")


def test_sinusoidal_closed_form():
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    check_sinusoid(sinusoidal_positional_encoding(50, 16), 50, 16)    # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=15, report_multiple_bugs=False, derandomize=True, database=None, deadline=None)
    @given(max_len=st.integers(0, 300), half=st.integers(1, 256))
    @example(max_len=1, half=1)                              # d_model = 2: one (sin, cos) pair
    @example(max_len=0, half=4)                              # an empty table
    @example(max_len=64, half=512)                           # d_model = 1024
    def any_size(max_len, half):
        check_sinusoid(sinusoidal_positional_encoding(max_len, 2 * half), max_len, 2 * half)

    any_size()


def test_sinusoidal_long_positions():
    """Positions in the thousands: the angles must keep their digits (float32 alone loses ~1e-3 at p = 10000)."""
    check_sinusoid(sinusoidal_positional_encoding(12000, 64), 12000, 64)
    check_sinusoid(sinusoidal_positional_encoding(4100, 512), 4100, 512)


def test_sinusoidal_shift_is_a_rotation():
    """PE(p + k) = M_k PE(p) for every p, with M_k block-diagonal: one 2x2 rotation per (sin, cos) pair.
    So "k positions later" is the same linear map wherever you are: relative positions are easy to learn."""
    max_len, d = 64, 8
    pe = sinusoidal_positional_encoding(max_len, d).double()
    freqs = [10000 ** (-2 * i / d) for i in range(d // 2)]
    for k in (1, 5, 17):
        M = torch.zeros(d, d, dtype=torch.float64)
        for i, w in enumerate(freqs):
            # sin(a + b) = sin a cos b + cos a sin b;  cos(a + b) = cos a cos b - sin a sin b, with b = k w
            c, s = math.cos(k * w), math.sin(k * w)
            M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[c, s], [-s, c]])
        shifted = pe[:-k] @ M.T                                # row p: M_k PE(p)
        err = (shifted - pe[k:]).abs().max().item()
        assert err < 1e-5, (
            f"PE(p + {k}) differs from M_{k} PE(p) by {err:.3g}: each (PE[p, 2i], PE[p, 2i+1]) pair must be "
            f"(sin, cos) of p * w_i with w_i = 10000^(-2i / d_model), so that a shift is a rotation of each pair")


def test_sinusoidal_rejects_odd_d_model():
    for d in (7, 1, 33):
        with raises_value_error(str(d), f"an odd d_model ({d}) should raise ValueError naming it: the columns come in (sin, cos) pairs"):
            sinusoidal_positional_encoding(10, d)


# ---------------------------------------------------------------- stage 3: learned positions and the sum

@pytest.mark.parametrize("max_len, d_model", [(16, 4), (1, 3), (300, 33)])
def test_learned_positional_embedding(max_len, d_model):
    torch.manual_seed(0)
    pos = LearnedPositionalEmbedding(max_len=max_len, d_model=d_model)
    assert isinstance(pos.weight, nn.Parameter) and pos.weight.shape == (max_len, d_model), "weight should be a (max_len, d_model) nn.Parameter"
    T = max(1, max_len // 3)
    got = pos(T)
    assert got.shape == (T, d_model), f"pos({T}) has shape {tuple(got.shape)}, expected (seq_len, d_model) = ({T}, {d_model})"
    assert torch.equal(got, pos.weight[:T]), "pos(seq_len) should be the vectors of positions 0 .. seq_len - 1 (the first seq_len rows)"
    got.sum().backward()
    assert pos.weight.grad is not None and torch.all(pos.weight.grad[:T] == 1) and torch.all(pos.weight.grad[T:] == 0), (
        "only positions 0 .. seq_len - 1 should get a gradient: return self.weight[:seq_len], not a detached copy")
    assert torch.equal(pos(max_len), pos.weight), "seq_len == max_len is allowed"
    assert pos(0).shape == (0, d_model), f"pos(0) has shape {tuple(pos(0).shape)}, expected (0, d_model): no positions, no vectors"
    with raises_value_error(rf"(?s){max_len + 1}.*{max_len}|{max_len}.*{max_len + 1}",
                            f"pos({max_len + 1}) with max_len {max_len} should raise ValueError naming seq_len ({max_len + 1}) and "
                            f"max_len ({max_len}): there is no vector for position {max_len}"):
        pos(max_len + 1)
    with raises_value_error("-1", "pos(-1) should raise ValueError naming -1: weight[:-1] would silently return max_len - 1 rows; "
                                  "check 0 <= seq_len <= max_len"):
        pos(-1)


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_input_embedding_adds_token_and_position(positional):
    torch.manual_seed(0)
    emb = InputEmbedding(vocab_size=30, d_model=8, max_len=12, positional=positional)
    assert isinstance(emb.tok, TokenEmbedding), "InputEmbedding.tok should be a TokenEmbedding"
    ids = torch.tensor([[4, 4, 9, 1, 4], [0, 29, 4, 4, 3]])
    got = look_up(emb, ids, "InputEmbedding", "position t of every sequence gets position vector t: self.pos(T) or self.pos[:T], "
                                              "not vectors looked up by token id")
    pos = emb.pos.weight[:5] if positional == "learned" else sinusoidal_positional_encoding(12, 8)[:5]
    want = F.embedding(ids, emb.tok.weight) + pos
    assert got.shape == (2, 5, 8), f"ids (2, 5) gave {tuple(got.shape)}, expected (B, T, d_model) = (2, 5, 8)"
    if not torch.allclose(got, want, atol=1e-6):
        hint = ("token embeddings multiplied by sqrt(d_model)? The original Transformer does; GPT-2 (and this lesson) does not"
                if torch.allclose(got, F.embedding(ids, emb.tok.weight) * math.sqrt(8) + pos, atol=1e-6) else
                "position t of every sequence gets position vector t (not the vector of its token id)")
        raise AssertionError(f"{positional}: output differs from tok(ids) + pos[:T] by {(got - want).abs().max():.3g}: {hint}")
    assert not torch.allclose(got[0, 0], got[0, 1]), "the same token at two positions must get two different vectors"
    if positional == "sinusoidal":
        assert "pos" in dict(emb.named_buffers()) and "pos" not in dict(emb.named_parameters()), (
            "the sinusoidal encoding is fixed: a buffer (register_buffer), not a parameter")


def test_input_embedding_any_shape_ending_in_T():
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    def check(positional, lead, T, dtype, max_len=12, d=6, vocab=40):
        torch.manual_seed(0)
        emb = InputEmbedding(vocab_size=vocab, d_model=d, max_len=max_len, positional=positional)
        ids = random_ids((*lead, T), vocab, dtype, seed=T)
        got = look_up(emb, ids, "InputEmbedding", "T is the last dimension, ids.size(-1), whatever comes before it (not ids.size(1)); "
                                                  "add the vectors of positions 0 .. T - 1 (self.pos(T) or self.pos[:T]), not vectors looked up by token id")
        table = emb.pos.weight if positional == "learned" else sinusoid_oracle(max_len, d).float()
        want = F.embedding(ids.long(), emb.tok.weight) + table[:T]
        assert got.shape == want.shape, (
            f"{positional}: ids of shape {tuple(ids.shape)} gave {tuple(got.shape)}, expected {tuple(want.shape)} = (*ids.shape, d_model): "
            "T is the last dimension (ids.size(-1)), whatever comes before it, and the (T, d_model) position vectors "
            "broadcast over the leading dimensions as they are (no unsqueeze)")
        err = (got - want).abs().max().item() if got.numel() else 0.0
        assert err < 1e-6, (
            f"{positional}: for ids of shape {tuple(ids.shape)} the output differs from tok(ids) + pos[:T] by {err:.3g}: "
            "T = ids.size(-1) (not ids.size(1)), and position t of every sequence gets position vector t")

    check("learned", (2,), 5, torch.int64)                   # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=20, report_multiple_bugs=False, derandomize=True, database=None, deadline=None)
    @given(positional=st.sampled_from(["learned", "sinusoidal"]), lead=st.lists(st.integers(1, 4), max_size=2).map(tuple),
           T=st.integers(0, 12), dtype=st.sampled_from([torch.int64, torch.int32, torch.int16]))
    @example(positional="learned", lead=(), T=7, dtype=torch.int64)           # 1-D ids (T,)
    @example(positional="sinusoidal", lead=(3, 2), T=4, dtype=torch.int64)    # 3-D ids (A, B, T)
    @example(positional="sinusoidal", lead=(20,), T=3, dtype=torch.int32)     # more sequences than max_len
    @example(positional="learned", lead=(2,), T=0, dtype=torch.int64)         # no tokens yet
    def any_shape(positional, lead, T, dtype):
        check(positional, lead, T, dtype)

    any_shape()


def test_input_embedding_gradients():
    """Both tables learn: tok.weight gets F.embedding's gradient, pos.weight row t the upstream gradient summed over the batch."""
    torch.manual_seed(0)
    emb = InputEmbedding(vocab_size=15, d_model=4, max_len=9, positional="learned").double()
    ids = torch.tensor([[[3, 3, 0, 14, 3, 0]], [[0, 0, 0, 7, 7, 0]], [[1, 2, 3, 4, 5, 6]]])  # (3, 1, 6), repeats and padding 0
    upstream = torch.randn(3, 1, 6, 4, generator=gen(3), dtype=torch.float64)
    out = emb(ids)
    assert out.requires_grad, "the output does not require grad: add the parameters' own rows, not detached copies"
    (out * upstream).sum().backward()
    weight = emb.tok.weight.detach().clone().requires_grad_(True)
    (F.embedding(ids, weight) * upstream).sum().backward()
    tok_grad, pos_grad = emb.tok.weight.grad, emb.pos.weight.grad
    assert tok_grad is not None and torch.allclose(tok_grad, weight.grad, atol=1e-12), (
        "tok.weight's gradient differs from F.embedding's: look the tokens up with self.tok(ids), without detaching")
    want = torch.zeros(9, 4, dtype=torch.float64)
    want[:6] = upstream.sum(dim=(0, 1))
    assert pos_grad is not None and torch.allclose(pos_grad, want, atol=1e-12), (
        "pos.weight's gradient should be the upstream gradient summed over the batch for positions 0 .. T - 1 and 0 after: "
        "add self.pos(T) as it is (not detached, not under torch.no_grad())")


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_input_embedding_rejects_long_sequences(positional):
    torch.manual_seed(0)
    emb = InputEmbedding(vocab_size=30, d_model=8, max_len=12, positional=positional)
    assert emb(torch.zeros(1, 12, dtype=torch.long)).shape == (1, 12, 8), "a sequence of exactly max_len tokens is allowed"
    for shape in ((1, 13), (13,), (2, 1, 13)):
        with raises_value_error(r"(?s)13.*12|12.*13", f"ids of shape {shape} (13 tokens) with max_len 12 should raise ValueError "
                                                     "naming both numbers: the model has no position beyond its context"):
            emb(torch.zeros(shape, dtype=torch.long))
