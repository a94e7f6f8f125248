"""Specs for lesson 2: token embedding, sinusoidal and learned positions, their sum.

Oracles: ``torch.nn.functional.embedding`` (values and gradients), the closed form of the sinusoids
computed with ``math.sin``/``math.cos``, and rotation matrices built here from the frequencies.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..spec_helpers import raises_value_error
from .embeddings import InputEmbedding, LearnedPositionalEmbedding, TokenEmbedding, sinusoidal_positional_encoding


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- stage 1: token embedding

@pytest.mark.parametrize("shape", [(2, 7), (5,), (2, 3, 4)], ids=["B,T", "T", "any"])
def test_token_embedding_matches_f_embedding(shape):
    torch.manual_seed(0)
    emb = TokenEmbedding(vocab_size=50, d_model=8)
    assert isinstance(emb.weight, nn.Parameter) and emb.weight.shape == (50, 8), "TokenEmbedding.weight should be a (vocab_size, d_model) nn.Parameter"
    ids = torch.randint(0, 50, shape, generator=gen(1))
    got = emb(ids)
    want = F.embedding(ids, emb.weight)
    assert got.shape == want.shape, f"ids of shape {tuple(ids.shape)} gave {tuple(got.shape)}, expected {tuple(want.shape)} (*ids.shape, d_model)"
    assert torch.equal(got, want), "TokenEmbedding(ids) differs from F.embedding(ids, weight): row i of weight is the vector of token i"
    big = TokenEmbedding(vocab_size=1000, d_model=64).weight
    assert abs(big.std().item() - 0.02) < 0.002 and abs(big.mean().item()) < 0.002, (
        f"weight should start as normal(0, 0.02) like GPT-2's, got mean {big.mean().item():.4f}, std {big.std().item():.4f}")


def test_token_embedding_gradient_only_on_looked_up_rows():
    torch.manual_seed(0)
    emb = TokenEmbedding(vocab_size=20, d_model=6).double()
    ids = torch.tensor([[3, 7, 3], [0, 19, 7]])             # 3 and 7 appear twice
    upstream = torch.randn(2, 3, 6, generator=gen(2), dtype=torch.float64)
    out = emb(ids)
    assert out.requires_grad, "the output does not require grad: index the parameter itself (self.weight[ids]), not weight.data or a detached copy"
    (out * upstream).sum().backward()
    weight = emb.weight.detach().clone().requires_grad_(True)
    (F.embedding(ids, weight) * upstream).sum().backward()
    untouched = [i for i in range(20) if i not in ids]
    assert torch.all(emb.weight.grad[untouched] == 0), "rows of tokens that were not looked up must get no gradient"
    assert torch.allclose(emb.weight.grad, weight.grad), (
        "the gradient differs from F.embedding's: a token that appears twice must get the sum of both upstream gradients")


def test_token_embedding_rejects_bad_ids():
    torch.manual_seed(0)
    emb = TokenEmbedding(vocab_size=10, d_model=4)
    with raises_value_error("10", "token id 10 with vocab_size 10 should raise ValueError naming the bad id (check ids.max() < vocab_size)"):
        emb(torch.tensor([[1, 10]]))                        # one past the end
    with raises_value_error("-1", "token id -1 should raise ValueError naming it: weight[-1] would silently return the last row"):
        emb(torch.tensor([[-1, 2]]))                        # weight[-1] would silently be the last row
    with raises_value_error("dtype", "float ids should raise ValueError naming the dtype: token ids are integers"):
        emb(torch.tensor([[1.0, 2.0]]))                     # ids are integers


# ---------------------------------------------------------------- stage 2: sinusoidal positional encoding

def test_sinusoidal_closed_form():
    max_len, d = 50, 16
    pe = sinusoidal_positional_encoding(max_len, d)
    assert pe.shape == (max_len, d), f"sinusoidal_positional_encoding(50, 16) has shape {tuple(pe.shape)}, expected (max_len, d_model) = (50, 16)"
    assert pe.dtype == torch.float32, f"expected the default dtype float32, got {pe.dtype}"
    for p in (0, 1, 7, 49):
        for i in (0, 1, 3, 7):
            angle = p / 10000 ** (2 * i / d)
            want = (math.sin(angle), math.cos(angle))
            got = (pe[p, 2 * i].item(), pe[p, 2 * i + 1].item())
            if not (math.isclose(got[0], want[0], abs_tol=1e-6) and math.isclose(got[1], want[1], abs_tol=1e-6)):
                one_later = (p + 1) / 10000 ** (2 * i / d)
                if math.isclose(got[0], want[1], abs_tol=1e-6) and math.isclose(got[1], want[0], abs_tol=1e-6):
                    hint = "sin and cos swapped: sin goes in the even columns, cos in the odd ones"
                elif math.isclose(pe[p, i].item(), want[0], abs_tol=1e-6) and math.isclose(pe[p, d // 2 + i].item(), want[1], abs_tol=1e-6):
                    hint = "sines in the first half and cosines in the second: this lesson interleaves them (PE[p, 2i] = sin, PE[p, 2i+1] = cos)"
                elif math.isclose(got[0], math.sin(one_later), abs_tol=1e-6) and math.isclose(got[1], math.cos(one_later), abs_tol=1e-6):
                    hint = "positions start at 0 (the first token has PE = [0, 1, 0, 1, ...]), not at 1"
                else:
                    hint = f"the angle should be p / 10000^(2i / d_model) = {angle:.6g} (2i, the even column index, not i)"
                raise AssertionError(f"PE[{p}, {2 * i}:{2 * i + 2}] = {got}, expected (sin, cos) = {want}: {hint}")


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
    with raises_value_error("7", "an odd d_model (7) should raise ValueError naming it: the columns come in (sin, cos) pairs"):
        sinusoidal_positional_encoding(10, 7)


# ---------------------------------------------------------------- stage 3: learned positions and the sum

def test_learned_positional_embedding():
    torch.manual_seed(0)
    pos = LearnedPositionalEmbedding(max_len=16, d_model=4)
    assert isinstance(pos.weight, nn.Parameter) and pos.weight.shape == (16, 4), "weight should be a (max_len, d_model) nn.Parameter"
    got = pos(5)
    assert got.shape == (5, 4), f"pos(5) has shape {tuple(got.shape)}, expected (seq_len, d_model) = (5, 4)"
    assert torch.equal(got, pos.weight[:5]), "pos(seq_len) should be the vectors of positions 0 .. seq_len - 1 (the first seq_len rows)"
    got.sum().backward()
    assert torch.all(pos.weight.grad[:5] == 1) and torch.all(pos.weight.grad[5:] == 0), "only positions 0 .. seq_len - 1 should get a gradient"
    assert torch.equal(pos(16), pos.weight), "seq_len == max_len is allowed"
    with raises_value_error(r"(?s)17.*16|16.*17", "pos(17) with max_len 16 should raise ValueError naming seq_len (17) and max_len (16): there is no vector for position 16"):
        pos(17)


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_input_embedding_adds_token_and_position(positional):
    torch.manual_seed(0)
    emb = InputEmbedding(vocab_size=30, d_model=8, max_len=12, positional=positional)
    assert isinstance(emb.tok, TokenEmbedding), "InputEmbedding.tok should be a TokenEmbedding"
    ids = torch.tensor([[4, 4, 9, 1, 4], [0, 29, 4, 4, 3]])
    got = emb(ids)
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


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_input_embedding_rejects_long_sequences(positional):
    torch.manual_seed(0)
    emb = InputEmbedding(vocab_size=30, d_model=8, max_len=12, positional=positional)
    assert emb(torch.zeros(1, 12, dtype=torch.long)).shape == (1, 12, 8), "a sequence of exactly max_len tokens is allowed"
    with raises_value_error(r"(?s)13.*12|12.*13", "13 tokens with max_len 12 should raise ValueError naming both numbers: the model has no position beyond its context"):
        emb(torch.zeros(1, 13, dtype=torch.long))
