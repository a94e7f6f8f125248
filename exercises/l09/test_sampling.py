"""Specs for lesson 9, part 1: greedy, temperature, top-k, top-p, the repetition penalty, seeded sampling.

Oracles: ``torch.argmax`` and the real ``transformers`` logits warpers (TemperatureLogitsWarper,
TopKLogitsWarper, TopPLogitsWarper, RepetitionPenaltyLogitsProcessor), on random logits with and without ties.

Sampling is checked by frequencies. The tolerance is documented in ``_chi_square_bound``: a correct sampler
fails a frequency check with probability at most 1e-6 (whatever RNG calls it makes); the seeds are fixed, so
the specs are deterministic anyway.
"""
from __future__ import annotations

import math

import pytest
import torch

from .sampling import apply_repetition_penalty, apply_temperature, greedy, sample_next, top_k_filter, top_p_filter

INF = float("inf")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _random_logits(seed: int, rows: int = 16, vocab: int = 40, scale: float = 2.0) -> torch.Tensor:
    return torch.randn(rows, vocab, generator=_gen(seed)) * scale


def _tied_logits(seed: int, rows: int = 16, vocab: int = 24) -> torch.Tensor:
    """Small integers: many equal logits, so ties at every boundary."""
    return torch.randint(-3, 4, (rows, vocab), generator=_gen(seed)).float()


def _kept(logits: torch.Tensor) -> torch.Tensor:
    return logits > -INF


def _chi_square_bound(df: int, false_failure: float = 1e-6) -> float:
    """The value a chi-square(df) statistic exceeds with probability at most ``false_failure``.

    Laurent & Massart (2000), Lemma 1: P(X >= df + 2 sqrt(df x) + 2 x) <= exp(-x) for X ~ chi-square(df).
    Pearson's statistic sum (count - N p)^2 / (N p) over the kept tokens follows chi-square(kept - 1) closely
    when every expected count N p is large (here >= 100), so a CORRECT sampler fails one check with probability
    about 1e-6 or less. A wrong distribution (a token's probability off by 0.01 at N = 40,000) moves the
    statistic by hundreds.
    """
    x = math.log(1.0 / false_failure)
    return df + 2.0 * math.sqrt(df * x) + 2.0 * x


# --- Stage 1: greedy ---------------------------------------------------------------------------------


def test_greedy_is_argmax():
    logits = _random_logits(1, rows=8, vocab=30)
    got = greedy(logits)
    want = torch.argmax(logits, dim=-1)
    assert got.shape == (8,) and got.dtype == torch.int64, (
        f"greedy(logits (8, 30)) should be int64 ids of shape (8,), got {got.dtype} {tuple(got.shape)}: "
        "reduce over the LAST (vocabulary) dimension"
    )
    assert torch.equal(got, want), f"greedy gave {got.tolist()}, expected the argmax {want.tolist()}"
    batched = torch.randn(2, 3, 11, generator=_gen(2))
    assert torch.equal(greedy(batched), batched.argmax(-1)), "greedy of (2, 3, vocab) logits should be (2, 3)"
    tie = torch.tensor([[1.0, 5.0, 5.0, 0.0]])
    assert greedy(tie).tolist() == [1], f"on a tie greedy should pick the lowest id (1), got {greedy(tie).tolist()}"


# --- Stage 2: temperature ----------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.25, 0.7, 1.0, 1.8])
def test_temperature_matches_transformers(temperature):
    from transformers import TemperatureLogitsWarper

    logits = _random_logits(3)
    got = apply_temperature(logits, temperature)
    want = TemperatureLogitsWarper(temperature)(None, logits.clone())
    assert got.shape == logits.shape, f"apply_temperature changed the shape {tuple(logits.shape)} -> {tuple(got.shape)}"
    assert torch.allclose(got, want, rtol=1e-6, atol=0), (
        f"apply_temperature(logits, {temperature}) differs from transformers' TemperatureLogitsWarper by "
        f"{(got - want).abs().max():.3g}: the temperature scales the LOGITS (logits / T), before any softmax"
    )
    # The distribution at temperature T is softmax(logits / T): scaling probabilities instead changes nothing
    # after renormalisation.
    assert torch.allclose(got.softmax(-1), (logits / temperature).softmax(-1), atol=1e-6), (
        f"softmax(apply_temperature(logits, {temperature})) should be softmax(logits / {temperature})"
    )


def test_temperature_zero_is_greedy():
    logits = torch.cat([_random_logits(4, rows=6), torch.tensor([[2.0] * 20 + [1.0] * 20])])  # last row: a tie
    got = apply_temperature(logits, 0)
    assert not torch.isnan(got).any(), "apply_temperature(logits, 0) gave NaN: temperature 0 must not divide by 0"
    keep = torch.isfinite(got)
    assert keep.sum(-1).tolist() == [1] * logits.shape[0], (
        f"at temperature 0 exactly one token per row should stay finite (the argmax), got {keep.sum(-1).tolist()}"
    )
    assert torch.equal(keep.float().argmax(-1), logits.argmax(-1)), (
        "at temperature 0 the token that stays should be the argmax (the lowest id on a tie)"
    )
    assert (got[~keep] == -INF).all(), "the other tokens should be -inf (probability 0)"
    for shape in ((40,), (2, 3, 40)):  # (vocab,) and (..., vocab): the vocabulary is always the LAST dimension
        some = torch.randn(shape, generator=_gen(17)) * 3
        got = apply_temperature(some, 0)
        want = some.masked_fill(some < some.amax(-1, keepdim=True), -INF)
        assert torch.equal(got, want), (
            f"apply_temperature(logits of shape {shape}, 0) should keep each row's argmax over the LAST dimension "
            f"and set the rest to -inf; got {int(torch.isfinite(got).sum())} finite entries instead of "
            f"{int(torch.isfinite(want).sum())}: index the vocabulary as logits.shape[-1] and dim=-1, not dimension 1"
        )
    ids = sample_next(logits, temperature=0.0, generator=_gen(0))
    assert torch.equal(ids, greedy(logits)), f"sample_next(temperature=0) gave {ids.tolist()}, expected greedy"
    for bad in (-0.5, float("nan"), INF):
        with pytest.raises(ValueError):
            apply_temperature(logits, bad)


# --- Stage 3: top-k ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 5, 39, 40, 100])
def test_top_k_matches_transformers(k):
    from transformers import TopKLogitsWarper

    logits = _random_logits(5)
    logits[0, :10] = -INF  # rows that were already filtered
    got = top_k_filter(logits, k)
    want = TopKLogitsWarper(top_k=k)(None, logits.clone())
    assert got.shape == logits.shape, f"top_k_filter changed the shape {tuple(logits.shape)} -> {tuple(got.shape)}"
    counts = _kept(got).sum(-1).tolist()
    assert torch.equal(_kept(got), _kept(want)), (
        f"top_k_filter(logits, {k}) keeps {counts[:4]}... tokens per row, transformers keeps "
        f"{_kept(want).sum(-1).tolist()[:4]}...: keep every logit >= the k-th largest (k >= vocab keeps all; "
        "k - 1 or k + 1 is an off-by-one)"
    )
    assert torch.equal(got[_kept(got)], logits[_kept(got)]), "the kept logits must be unchanged"


def test_top_k_keeps_ties():
    from transformers import TopKLogitsWarper

    got = top_k_filter(torch.tensor([3.0, 1.0, 1.0, 0.0, 1.0]), 2)
    assert _kept(got).tolist() == [True, True, True, False, True], (
        f"top_k_filter([3, 1, 1, 0, 1], 2) kept {_kept(got).tolist()}: the 2nd largest logit is 1, and every "
        "token tied with it stays (as transformers does), so 4 tokens survive; selecting k indices drops ties"
    )
    for k in (1, 3, 8):
        logits = _tied_logits(6)
        got, want = top_k_filter(logits, k), TopKLogitsWarper(top_k=k)(None, logits.clone())
        assert torch.equal(_kept(got), _kept(want)), (
            f"with tied logits, top_k_filter(k={k}) keeps {_kept(got).sum(-1).tolist()} tokens per row, "
            f"transformers {_kept(want).sum(-1).tolist()}: compare with the k-th largest VALUE"
        )
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError):
            top_k_filter(logits, bad)


# --- Stage 4: top-p (nucleus) ------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 0.5, 0.8, 0.95, 0.999, 1.0])
def test_top_p_matches_transformers(p):
    from transformers import TopPLogitsWarper

    logits = _random_logits(7, rows=32)
    logits[1, ::2] = -INF
    got = top_p_filter(logits, p)
    want = TopPLogitsWarper(top_p=p)(None, logits.clone())
    assert got.shape == logits.shape, f"top_p_filter changed the shape {tuple(logits.shape)} -> {tuple(got.shape)}"
    assert _kept(got).any(-1).all(), (
        f"top_p_filter(logits, {p}) removed EVERY token of a row: the most likely token always stays "
        "(the nucleus is never empty, even when it alone holds more than p)"
    )
    row = int((_kept(got) != _kept(want)).any(-1).float().argmax())
    assert torch.equal(_kept(got), _kept(want)), (
        f"top_p_filter(logits, {p}) keeps {int(_kept(got)[row].sum())} tokens in row {row}, transformers "
        f"{int(_kept(want)[row].sum())}: keep the smallest set of most likely tokens whose probability REACHES p "
        "(the token that crosses p is in)"
    )
    assert torch.equal(got[_kept(got)], logits[_kept(got)]), "the kept logits must be unchanged"


def test_top_p_keeps_the_token_that_crosses_p():
    probs = torch.tensor([0.15, 0.5, 0.05, 0.3])
    logits = probs.log()
    cases = {0.4: [1], 0.5 + 1e-3: [1, 3], 0.7: [1, 3], 0.85: [0, 1, 3], 0.97: [0, 1, 2, 3], 0.0: [1]}
    for p, want in cases.items():
        got = torch.nonzero(_kept(top_p_filter(logits, p))).flatten().tolist()
        assert got == want, (
            f"probabilities {probs.tolist()}, top_p={p}: kept token ids {got}, expected {want}. Sorted, the "
            "probabilities are 0.5, 0.3, 0.15, 0.05; keep tokens until the kept mass reaches p, INCLUDING the one "
            "that crosses it, and always the most likely one"
        )
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            top_p_filter(logits, bad)


@pytest.mark.parametrize("p", [0.37, 0.61, 0.83, 0.95])
def test_top_p_with_ties(p):
    from transformers import TopPLogitsWarper

    logits = _tied_logits(8, rows=32)
    got = top_p_filter(logits, p)
    want = TopPLogitsWarper(top_p=p)(None, logits.clone())
    assert torch.equal(_kept(got).sum(-1), _kept(want).sum(-1)), (
        f"with tied logits, top_p_filter(logits, {p}) keeps {_kept(got).sum(-1).tolist()[:6]}... tokens per row, "
        f"transformers {_kept(want).sum(-1).tolist()[:6]}...; equal logits are equally likely, only WHICH of "
        "them is kept at the boundary may differ"
    )
    for r in range(logits.shape[0]):
        got_values = logits[r][_kept(got[r])].sort().values
        want_values = logits[r][_kept(want[r])].sort().values
        assert torch.equal(got_values, want_values), f"row {r}: kept logits {got_values} != {want_values}"


# --- Stage 5: repetition penalty ---------------------------------------------------------------------


@pytest.mark.parametrize("penalty", [1.3, 2.0, 0.7, 1.0])
def test_repetition_penalty_matches_transformers(penalty):
    from transformers import RepetitionPenaltyLogitsProcessor

    logits = _random_logits(9, rows=4, vocab=30)  # both signs
    previous = torch.randint(0, 30, (4, 25), generator=_gen(10))  # with repeats
    got = apply_repetition_penalty(logits, previous, penalty)
    want = RepetitionPenaltyLogitsProcessor(penalty=penalty)(previous, logits.clone())
    assert got.shape == logits.shape, f"the shape changed: {tuple(logits.shape)} -> {tuple(got.shape)}"
    assert torch.allclose(got, want, rtol=1e-6, atol=1e-7), (
        f"apply_repetition_penalty(penalty={penalty}) differs from transformers' RepetitionPenaltyLogitsProcessor "
        f"by {(got - want).abs().max():.3g}: seen tokens only, once each; positive logits / penalty, negative "
        "logits * penalty"
    )


def test_repetition_penalty_lowers_seen_tokens():
    logits = torch.tensor([[2.0, -2.0, 1.0, -1.0, 0.5]])
    got = apply_repetition_penalty(logits, torch.tensor([[0, 1, 1, 1, 4]]), 2.0)
    want = torch.tensor([[1.0, -4.0, 1.0, -1.0, 0.25]])
    assert torch.allclose(got, want), (
        f"logits {logits.tolist()}, seen ids [0, 1, 1, 1, 4], penalty 2: got {got.tolist()}, expected "
        f"{want.tolist()}. A negative logit is MULTIPLIED (-2 -> -4: dividing would make it likelier), a token "
        "seen three times is penalised once, unseen tokens stay"
    )
    assert torch.equal(logits, torch.tensor([[2.0, -2.0, 1.0, -1.0, 0.5]])), "the input logits must not be modified"
    flat = apply_repetition_penalty(torch.tensor([3.0, -3.0, 1.0]), torch.tensor([0, 1]), 1.5)
    assert torch.allclose(flat, torch.tensor([2.0, -4.5, 1.0])), f"1-D logits with 1-D ids: got {flat.tolist()}"
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError):
            apply_repetition_penalty(logits, torch.tensor([[0]]), bad)


# --- Stage 6: sampling -------------------------------------------------------------------------------


def _expected_probs(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """The sampling distribution by transformers' own warpers, in transformers' order."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    scores = TemperatureLogitsWarper(temperature)(None, logits.clone()[None])
    if top_k is not None:
        scores = TopKLogitsWarper(top_k=top_k)(None, scores)
    if top_p is not None:
        scores = TopPLogitsWarper(top_p=top_p)(None, scores)
    return scores[0].double().softmax(-1)


@pytest.mark.parametrize(
    "temperature, top_k, top_p", [(1.0, None, None), (0.7, 4, None), (1.5, None, 0.8), (0.9, 6, 0.9)]
)
def test_sampling_frequencies(temperature, top_k, top_p):
    n = 40_000
    logits = torch.tensor([1.2, 0.3, -0.5, 2.0, 0.0, -1.0, 0.8, -0.2, 1.5, -2.0])
    expected = _expected_probs(logits, temperature, top_k, top_p)
    ids = sample_next(logits.expand(n, -1), temperature=temperature, top_k=top_k, top_p=top_p, generator=_gen(11))
    assert ids.shape == (n,) and ids.dtype == torch.int64, (
        f"sample_next(logits ({n}, 10)) should give int64 ids of shape ({n},), got {ids.dtype} {tuple(ids.shape)}"
    )
    counts = torch.bincount(ids, minlength=10).double()
    filtered = (expected == 0).nonzero().flatten().tolist()
    assert counts[expected == 0].sum() == 0, (
        f"temperature={temperature}, top_k={top_k}, top_p={top_p}: tokens {filtered} are filtered out "
        f"and must never be drawn, got counts {counts.long().tolist()}"
    )
    kept = expected > 0
    want = n * expected[kept]
    chi2 = float(((counts[kept] - want) ** 2 / want).sum())
    bound = _chi_square_bound(int(kept.sum()) - 1)
    assert chi2 < bound, (
        f"temperature={temperature}, top_k={top_k}, top_p={top_p}: over {n} draws the frequencies "
        f"{(counts / n).round(decimals=3).tolist()} are far from the expected "
        f"{expected.round(decimals=3).tolist()} (chi-square {chi2:.1f} >= {bound:.1f}, a bound a correct sampler "
        "exceeds with probability 1e-6). Order: temperature, then top-k, then top-p, then softmax and draw"
    )


def test_sampling_is_seeded():
    logits = _random_logits(12, rows=64, vocab=20, scale=1.0)
    first = sample_next(logits, generator=_gen(7))
    torch.manual_seed(1234)  # the global RNG must not matter
    second = sample_next(logits, generator=_gen(7))
    assert torch.equal(first, second), (
        "two calls with generators seeded alike gave different tokens: draw with the given generator "
        "(torch.multinomial(probs, 1, generator=generator)), not the global RNG"
    )
    assert not torch.equal(first, sample_next(logits, generator=_gen(8))), "a different seed should change the draw"
    state = torch.get_rng_state()
    sample_next(logits, top_k=5, top_p=0.9, generator=_gen(9))
    assert torch.equal(torch.get_rng_state(), state), "sampling with a generator must leave the global RNG alone"
    generator = _gen(10)
    greedy_ids = sample_next(logits, temperature=0, generator=generator)
    assert torch.equal(greedy_ids, greedy(logits)), "sample_next(temperature=0) should be greedy(logits)"
    assert torch.equal(generator.get_state(), _gen(10).get_state()) and torch.equal(torch.get_rng_state(), state), (
        "sample_next(temperature=0) drew a random number (the generator's state changed): temperature 0 is greedy, "
        "no draw at all. Return greedy(logits) before any sampling, so a seeded run's later draws do not shift"
    )


def test_filters_apply_in_order():
    # Temperature before top-p: at T = 2 the distribution flattens and the nucleus grows from 2 tokens to 3.
    logits = torch.tensor([0.6, 0.25, 0.1, 0.05]).log()
    ids = sample_next(logits.expand(4000, -1), temperature=2.0, top_p=0.8, generator=_gen(13))
    seen = sorted(set(ids.tolist()))
    assert seen == [0, 1, 2], (
        f"probabilities [0.6, 0.25, 0.1, 0.05] at temperature 2 with top_p=0.8 should draw tokens [0, 1, 2], drew "
        f"{seen}: apply the temperature FIRST, then top-p on the tempered distribution (transformers' order)"
    )
    # Top-k before top-p: top-k renormalises [0.5, 0.3] to [0.625, 0.375], and 0.625 alone reaches 0.6.
    logits = torch.tensor([0.5, 0.3, 0.2]).log()
    ids = sample_next(logits.expand(2000, -1), top_k=2, top_p=0.6, generator=_gen(14))
    seen = sorted(set(ids.tolist()))
    assert seen == [0], (
        f"probabilities [0.5, 0.3, 0.2] with top_k=2 then top_p=0.6 should always draw token 0, drew {seen}: "
        "top-k first, then top-p on what top-k left"
    )


# --- Contract details: exact boundaries and degenerate inputs -----------------------------------------


@pytest.mark.parametrize("p", [0.125, 0.25, 0.5, 0.75, 0.875])
def test_top_p_at_exact_boundaries(p):
    from transformers import TopPLogitsWarper

    # Eight equal logits: every probability is exactly 1/8 and every cumulative sum k/8 is exact in float32,
    # so the nucleus for p = k/8 is exactly k tokens: the k-th token REACHES p and nothing more is needed.
    logits = torch.zeros(3, 8)
    got = top_p_filter(logits, p)
    want = TopPLogitsWarper(top_p=p)(None, logits.clone())
    kept, wanted = _kept(got).sum(-1).tolist(), _kept(want).sum(-1).tolist()
    assert kept == wanted == [round(8 * p)] * 3, (
        f"eight equally likely tokens (1/8 each), top_p={p}: kept {kept} tokens per row, transformers keeps {wanted}. "
        f"{round(8 * p)} tokens hold exactly p, so that is the nucleus: drop the sorted tail whose cumulative "
        "probability is <= 1 - p (less-or-equal: a tail holding exactly 1 - p goes too), not < 1 - p"
    )


def test_sample_next_degenerate_inputs():
    logits = _random_logits(15, rows=6, vocab=12)
    one = sample_next(logits[0], generator=_gen(1))
    assert one.shape == () and one.dtype == torch.int64, (
        f"sample_next of 1-D logits (vocab,) should give a 0-d int64 id, got {one.dtype} {tuple(one.shape)}: "
        "squeeze only the sample dimension (torch.multinomial(...).squeeze(-1)), do not flatten"
    )
    assert greedy(logits[0]).shape == (), "greedy of 1-D logits should be a 0-d id"
    row = sample_next(logits[:1], generator=_gen(2))
    assert row.shape == (1,), f"sample_next of a batch of one row (1, vocab) should give shape (1,), got {tuple(row.shape)}"
    plain = sample_next(logits, generator=_gen(3))
    for name, settings in {"top_k >= vocab": dict(top_k=12), "top_k > vocab": dict(top_k=500), "top_p=1.0": dict(top_p=1.0)}.items():
        got = sample_next(logits, generator=_gen(3), **settings)
        assert torch.equal(got, plain), (
            f"sample_next with {name} should draw exactly what it draws without the filter (nothing is removed), "
            f"got {got.tolist()} instead of {plain.tolist()}: such a filter is a no-op"
        )
    separated = torch.tensor([[0.0, 1.0, 3.0, 2.0], [5.0, 1.0, 0.0, 4.0]])
    tiny = sample_next(separated[:, None].expand(2, 200, 4).reshape(400, 4), temperature=1e-3, generator=_gen(4))
    assert (tiny.view(2, 200) == torch.tensor([[2], [0]])).all(), (
        "at temperature 1e-3 the distribution is the argmax (the gaps between logits become thousands): "
        f"drew {sorted(set(tiny.tolist()))}. Divide the logits by the temperature"
    )
    huge = sample_next(separated[:1].expand(4000, 4), temperature=1e4, generator=_gen(5))
    assert len(set(huge.tolist())) == 4, (
        f"at temperature 1e4 every token is about equally likely, yet only {sorted(set(huge.tolist()))} were drawn"
    )


def test_filters_leave_their_input_alone():
    logits = _random_logits(16, rows=4, vocab=10)
    previous = torch.tensor([[0, 1], [2, 3], [4, 4], [9, 0]])
    calls = {
        "apply_temperature(logits, 0.5)": lambda x: apply_temperature(x, 0.5),
        "apply_temperature(logits, 0)": lambda x: apply_temperature(x, 0),
        "top_k_filter(logits, 3)": lambda x: top_k_filter(x, 3),
        "top_p_filter(logits, 0.5)": lambda x: top_p_filter(x, 0.5),
        "apply_repetition_penalty(logits, previous, 1.5)": lambda x: apply_repetition_penalty(x, previous, 1.5),
    }
    for name, call in calls.items():
        given = logits.clone()
        out = call(given)
        assert torch.equal(given, logits), (
            f"{name} changed the logits it was given ({int((given != logits).sum())} entries): return a new tensor "
            "(masked_fill, not masked_fill_; logits / T, not logits /= T): the caller may still need its logits"
        )
        assert out.shape == logits.shape, f"{name} returned shape {tuple(out.shape)}, expected {tuple(logits.shape)}"
