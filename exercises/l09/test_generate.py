"""Specs for lesson 9, part 2: the decoding loop (generate, stop tokens, the context window), streaming, and the KV
cache.

Oracles: a hand-written loop over the model's own forward (argmax of ``model(ids)[0][:, -1]``), Hugging Face
``transformers``' ``GPT2LMHeadModel.generate(do_sample=False)`` on the same weights (loaded into the L07 GPT
with ``load_hf_state_dict``), and, for the KV cache, the full recomputation ``model(all tokens)`` at every step.
"""
from __future__ import annotations

import pytest
import torch

from .generate import generate, stream
from .kv_cache import GPTWeights, KVCache, forward_with_cache


def _gpt(seed: int = 0, vocab_size: int = 16, block_size: int = 24, n_embd: int = 16, scale: float = 4.0):
    """A small L07 GPT with random weights, multiplied by ``scale``: the GPT-2 init (std 0.02) gives nearly
    uniform next-token distributions, where the argmax is decided by rounding noise."""
    from ..l07.gpt import GPT, GPTConfig

    torch.manual_seed(seed)
    model = GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=2, n_head=2, n_embd=n_embd))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    return model.eval()


def _with_biases_and_eps(model, seed: int, eps: float):
    """``model`` with random biases (the GPT-2 init makes every bias 0, so a forgotten bias would not show) and
    every LayerNorm's epsilon set to ``eps`` (GPTWeights.of reads it back as weights.eps)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g))
    for module in model.modules():
        if hasattr(module, "eps"):
            module.eps = eps
    return model


def _hf_pair(seed: int = 0, vocab_size: int = 16, block_size: int = 24, scale: float = 4.0):
    """A random Hugging Face GPT2LMHeadModel (built from a config, no download) and the L07 GPT holding the
    same weights."""
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel

    from ..l07.gpt import GPT, GPTConfig

    transformers.logging.set_verbosity_error()
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab_size, n_positions=block_size, n_embd=16, n_layer=2, n_head=2,
        bos_token_id=None, eos_token_id=None, pad_token_id=None,
    )  # fmt: skip
    hf = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for p in hf.parameters():
            p.mul_(scale)
    ours = GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=2, n_head=2, n_embd=16))
    ours.load_hf_state_dict(hf.state_dict())
    return hf, ours.eval()


def _hf_generate(hf, idx: torch.Tensor, max_new_tokens: int, **kwargs) -> torch.Tensor:
    return hf.generate(
        idx, attention_mask=torch.ones_like(idx), max_new_tokens=max_new_tokens, do_sample=False,
        pad_token_id=0, **kwargs,
    )  # fmt: skip


def _manual_greedy(model, idx: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
    """The definition: argmax of the last position's logits, over the last block_size tokens, appended."""
    ids = idx
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits, _ = model(ids[:, -model.config.block_size :])
            ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids


def _first_difference(got: torch.Tensor, want: torch.Tensor) -> str:
    if got.shape != want.shape:
        return f"shape {tuple(got.shape)} instead of {tuple(want.shape)}"
    row, col = (got != want).nonzero()[0].tolist()
    return f"row {row} differs first at position {col}: {got[row].tolist()} vs {want[row].tolist()}"


PROMPTS = torch.tensor([[1, 2, 3, 4], [5, 9, 9, 0]])


# --- Stage 7: the decoding loop ----------------------------------------------------------------------


def test_greedy_generate_matches_manual_loop():
    model = _gpt(1)
    got = generate(model, PROMPTS, 10, temperature=0, use_cache=False)
    want = _manual_greedy(model, PROMPTS, 10)
    assert got.shape == (2, 14) and got.dtype == torch.int64, (
        f"generate(prompts (2, 4), max_new_tokens=10) should return int64 (2, 14) (prompt + new tokens), got "
        f"{got.dtype} {tuple(got.shape)}"
    )
    assert torch.equal(got[:, :4], PROMPTS), "the output must start with the prompt, unchanged"
    assert torch.equal(got, want), (
        "greedy generate differs from the argmax loop over model(ids): " + _first_difference(got, want)
        + ". Take the logits of the LAST position, append the argmax, feed the grown sequence back"
    )
    assert torch.equal(generate(model, PROMPTS, 0, use_cache=False), PROMPTS), "max_new_tokens=0 returns the prompt"


@pytest.mark.parametrize("repetition_penalty", [1.0, 1.5])
def test_greedy_generate_matches_transformers(repetition_penalty):
    hf, ours = _hf_pair(0)
    want = _hf_generate(hf, PROMPTS, 12, repetition_penalty=repetition_penalty)
    got = generate(ours, PROMPTS, 12, temperature=0, repetition_penalty=repetition_penalty, use_cache=False)
    assert torch.equal(got, want), (
        f"greedy generate (repetition_penalty={repetition_penalty}) differs from transformers' generate on the "
        f"same weights: {_first_difference(got, want)}. The penalty covers every token so far, prompt included, "
        "and comes before the argmax"
    )


def _with_stops(plain: torch.Tensor, prompt_len: int, stops: set[int], max_new: int) -> torch.Tensor:
    """What generate must give with stop tokens, from the run without them (rows are independent)."""
    rows, ends = [], []
    for row in plain.tolist():
        new = row[prompt_len:]
        end = next((i for i, t in enumerate(new) if t in stops), None)
        if end is not None:
            new = new[: end + 1] + [new[end]] * (len(new) - end - 1)  # a finished row repeats its stop token
        rows.append(row[:prompt_len] + new)
        ends.append(max_new if end is None else end + 1)
    return torch.tensor(rows)[:, : prompt_len + max(ends)]


def test_stop_tokens():
    model = _gpt(3)
    plain = generate(model, PROMPTS, 12, temperature=0, use_cache=False)
    stop0, stop1 = int(plain[0, 7]), int(plain[1, 10])  # tokens the rows produce after a while
    for stops in ({stop0}, {stop0, stop1}, {99}):
        got = generate(model, PROMPTS, 12, temperature=0, stop_tokens=stops, use_cache=False)
        want = _with_stops(plain, 4, stops, 12)
        assert torch.equal(got, want), (
            f"with stop_tokens={sorted(stops)}: {_first_difference(got, want)}. A row that produces a stop token "
            "keeps it and is finished (it repeats the stop token while other rows go on); generation ends when "
            "every row is finished or after max_new_tokens"
        )
    single = generate(model, PROMPTS[:1], 12, temperature=0, stop_tokens=[stop0], use_cache=False)
    assert single[0, -1] == stop0 and stop0 not in single[0, 4:-1].tolist(), (
        f"one sequence with stop token {stop0}: the output should end right after the first {stop0}, got "
        f"{single[0].tolist()}"
    )
    prompt_only = [t for t in PROMPTS[0].tolist() if t not in plain[0, 4:9].tolist()][0]
    in_prompt = generate(model, PROMPTS[:1], 5, temperature=0, stop_tokens=[prompt_only], use_cache=False)
    assert in_prompt.shape == (1, 9), (
        f"stop token {prompt_only} occurs only in the PROMPT, yet generation stopped early: only new tokens count"
    )


def test_context_window_slides():
    model = _gpt(4, block_size=12)
    got = generate(model, PROMPTS, 20, temperature=0, use_cache=False)  # 4 + 20 > block_size
    want = _manual_greedy(model, PROMPTS, 20)
    assert torch.equal(got, want), (
        "past block_size (12), the model must see only the last block_size tokens: "
        + _first_difference(got, want)
    )


def test_sampled_generate_is_seeded():
    model = _gpt(5, scale=1.5)
    settings = dict(temperature=0.9, top_k=8, top_p=0.95, use_cache=False)
    first = generate(model, PROMPTS, 15, generator=torch.Generator().manual_seed(0), **settings)
    torch.manual_seed(99)
    second = generate(model, PROMPTS, 15, generator=torch.Generator().manual_seed(0), **settings)
    assert torch.equal(first, second), "generate with generators seeded alike should give the same tokens"
    other = generate(model, PROMPTS, 15, generator=torch.Generator().manual_seed(1), **settings)
    assert not torch.equal(first, other), "another seed should give other tokens: is the generator passed on?"
    greedy = generate(model, PROMPTS, 15, temperature=0, use_cache=False)
    assert not torch.equal(first, greedy), (
        "sampling at temperature 0.9 gave exactly the greedy sequence: are the sampling arguments passed on?"
    )
    for name, only_the_argmax in {"top_k=1": dict(top_k=1), "top_p=0.0": dict(top_p=0.0)}.items():
        got = generate(model, PROMPTS, 6, temperature=1.0, generator=torch.Generator().manual_seed(0),
                       use_cache=False, **only_the_argmax)  # fmt: skip
        assert torch.equal(got, greedy[:, :10]), (
            f"generate(temperature=1.0, {name}) keeps only the most likely token each step, so it must be greedy: "
            f"{_first_difference(got, greedy[:, :10])}. Pass top_k and top_p on to sample_next (and from generate to "
            "stream)"
        )


class _Recording(torch.nn.Module):
    """Runs the wrapped GPT and records the (B, T) shape of every input it is called with. It has no weights of its
    own to cache (no .transformer): only the use_cache=False path, which calls model(ids), can run it."""

    def __init__(self, model):
        super().__init__()
        self.model, self.config, self.calls = model, model.config, []

    def forward(self, idx, targets=None):
        self.calls.append(tuple(idx.shape))
        return self.model(idx, targets)

    @property
    def transformer(self):
        raise AssertionError(
            "generate(use_cache=False) looked up the model's weights (model.transformer) as the KV cache path does: "
            "without the cache, call model(ids) on the last block_size tokens each step, and pass use_cache on "
            "from generate to stream"
        )


def test_without_cache_the_model_sees_the_window():
    model = _gpt(16, block_size=8)
    recording = _Recording(model)
    got = generate(recording, PROMPTS, 7, temperature=0, use_cache=False)
    assert got.shape == (2, 11), f"generate(prompts (2, 4), 7) should return (2, 11), got {tuple(got.shape)}"
    windows = [(2, min(4 + step, 8)) for step in range(7)]  # prompt 4 tokens, block_size 8
    assert recording.calls == windows, (
        f"with use_cache=False, generate should call model(ids) once per new token on the last block_size tokens "
        f"so far, (B, T) = {windows}; the model was called on {recording.calls}. Without the cache the model "
        "recomputes the whole window each step (and generate must pass use_cache on to stream)"
    )


# --- Stage 8: streaming ------------------------------------------------------------------------------


def test_stream_yields_the_same_tokens():
    model = _gpt(6)
    steps = stream(model, PROMPTS, 9, temperature=0, use_cache=False)
    assert hasattr(steps, "__next__"), f"stream(...) should return a generator (use yield), got {type(steps)}"
    tokens = list(steps)
    assert len(tokens) == 9 and all(t.shape == (2,) for t in tokens), (
        f"stream should yield max_new_tokens = 9 tensors of shape (B,) = (2,), got {len(tokens)}: "
        f"{[tuple(t.shape) for t in tokens][:3]}..."
    )
    want = generate(model, PROMPTS, 9, temperature=0, use_cache=False)[:, 4:]
    assert torch.equal(torch.stack(tokens, dim=1), want), "the streamed tokens differ from generate's new tokens"
    stop = int(want[0, 3])
    streamed = [int(t[0]) for t in stream(model, PROMPTS[:1], 9, temperature=0, stop_tokens=[stop], use_cache=False)]
    assert streamed[-1] == stop and stop not in streamed[:-1], (
        f"streaming with stop token {stop} should end with the first {stop}, got {streamed}"
    )


def test_stream_is_lazy():
    model = _gpt(7)
    steps = stream(model, PROMPTS, 6, temperature=0, use_cache=False)
    first = next(steps)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled(), (
        "between two tokens the CALLER's code runs: after next(stream) gradients are off / inference mode is on. "
        "Enter torch.inference_mode() (or no_grad) around each step's computation, not around the yield"
    )
    with torch.no_grad():  # after the first token, make every logit 0: the argmax becomes token 0
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.zero_()
    rest = torch.stack(list(steps), dim=1)
    want = _manual_greedy(_gpt(7), PROMPTS, 1)[:, -1]
    assert torch.equal(first, want), f"the first streamed tokens {first.tolist()} should be {want.tolist()}"
    assert rest.shape == (2, 5) and (rest == 0).all(), (
        f"after the first token the model was changed to give all-zero logits, yet stream yielded {rest.tolist()} "
        "instead of token 0 every time: each token must be computed when it is asked for (yield inside the "
        "loop), not all of them in advance"
    )


# --- Stage 9: the KV cache ---------------------------------------------------------------------------


def test_cache_update_writes_in_place():
    cache = KVCache(n_layer=2, batch_size=2, n_head=3, max_len=8, head_dim=4)
    data_ptr = cache.data.data_ptr()
    g = torch.Generator().manual_seed(8)
    k1, v1, k2, v2 = (torch.randn(2, 3, n, 4, generator=g) for n in (3, 3, 2, 2))
    keys, values = cache.update(1, k1, v1)
    assert keys.shape == (2, 3, 3, 4) and torch.equal(keys, k1) and torch.equal(values, v1), (
        f"after writing 3 positions into an empty cache, update should return those keys and values, "
        f"(B, H, 3, D) = (2, 3, 3, 4), got {tuple(keys.shape)}"
    )
    assert torch.equal(cache.data[1, 0, :, :, :3], k1) and torch.equal(cache.data[1, 1, :, :, :3], v1), (
        "update(layer, k, v) should store k in data[layer, 0] and v in data[layer, 1], at positions length.."
    )
    assert (cache.data[0] == 0).all(), "update(1, ...) wrote into another layer than 1"
    cache.length = 3  # forward_with_cache advances it once all layers have written
    keys, values = cache.update(1, k2, v2)
    assert torch.equal(keys, torch.cat([k1, k2], dim=2)) and torch.equal(values, torch.cat([v1, v2], dim=2)), (
        "with 3 positions cached, update with 2 new ones should write them at positions 3 and 4 and return all "
        "5 (the past, then the new)"
    )
    assert cache.data.data_ptr() == data_ptr and keys.data_ptr() == cache.data[1, 0].data_ptr(), (
        "the cache is allocated once: write into cache.data with slice assignment and return views of it "
        "(no torch.cat, no new tensor per step)"
    )


def test_cached_logits_equal_recomputation_every_step():
    model = _with_biases_and_eps(_gpt(9, block_size=20), seed=9, eps=0.5)
    tokens = torch.randint(0, 16, (2, 20), generator=torch.Generator().manual_seed(10))
    cache = KVCache.for_model(model, batch_size=2)
    assert cache.data.shape == (2, 2, 2, 2, 20, 8), (
        f"KVCache.for_model should be (n_layer, 2, B, n_head, block_size, head_dim) = (2, 2, 2, 2, 20, 8), "
        f"got {tuple(cache.data.shape)}"
    )
    data_ptr = cache.data.data_ptr()
    weights = GPTWeights.of(model)
    with torch.no_grad():  # one token at position 0: no past, no mask, only the blocks' arithmetic
        error = (forward_with_cache(weights, tokens[:, :1], cache) - model(tokens[:, :1])[0]).abs().max().item()
    assert error < 1e-4, (
        f"for a single token at position 0 (nothing cached, no mask) the logits differ from the model's by "
        f"{error:.3g}: the layers' arithmetic is not the model's (this model has nonzero biases and LayerNorm eps "
        "0.5). Check each LayerNorm's eps (pass weights.eps to every F.layer_norm, ln_f's too), GELU's tanh "
        "approximation (F.gelu(h, approximate='tanh')), every bias (all four Linears of a block), the residual "
        "additions, ln_f and lm_head"
    )
    cache.reset()
    # A prefill of 5, single tokens, then chunks of 2 and 3 new tokens: any chunk of more than one token needs the
    # mask (a new token must not see the new tokens after it).
    chunks = [(0, 5)] + [(t, t + 1) for t in range(5, 13)] + [(13, 15), (15, 18), (18, 19), (19, 20)]
    with torch.no_grad():
        for start, end in chunks:
            got = forward_with_cache(weights, tokens[:, start:end], cache)
            want = model(tokens[:, :end])[0][:, start:end]
            assert got.shape == want.shape, (
                f"forward_with_cache on positions {start}..{end - 1} should give logits {tuple(want.shape)}, got "
                f"{tuple(got.shape)}: only the NEW positions"
            )
            error = (got - want).abs().max().item()
            assert error < 1e-4, (
                f"positions {start}..{end - 1}: cached logits differ from the full recomputation by {error:.3g}. "
                + ("The prompt (prefill) needs the causal mask among its own tokens" if start == 0 else
                   "New tokens sit at positions cache.length.. (their position embeddings), and attend over every "
                   "cached key" + ("; several new tokens at once need the causal mask among themselves "
                                   "(tril(diagonal=cache.length)) whenever T_new > 1" if end - start > 1 else ""))
            )
            assert cache.length == end, (
                f"after positions up to {end - 1}, cache.length should be {end}, got {cache.length}"
            )
    assert cache.data.data_ptr() == data_ptr, "the cache's tensor was replaced: write into the pre-allocated one"
    with pytest.raises(ValueError):
        forward_with_cache(weights, tokens[:, :1], cache)  # the cache is full


def test_generate_with_cache_equals_without():
    model = _gpt(11, block_size=12)
    cases = {
        "greedy": dict(temperature=0),
        "greedy past block_size (the cache must be rebuilt when the window slides)": dict(temperature=0),
        "greedy with stop tokens": dict(temperature=0, stop_tokens=[3, 7]),
        "greedy with a repetition penalty": dict(temperature=0, repetition_penalty=1.4),
        "sampling": dict(temperature=1.0, top_k=10, top_p=0.9),
    }
    for name, settings in cases.items():
        max_new = 20 if "past" in name else 8
        runs = [
            generate(model, PROMPTS, max_new, generator=torch.Generator().manual_seed(12), use_cache=use_cache,
                     **settings)
            for use_cache in (False, True)
        ]  # fmt: skip
        assert torch.equal(runs[1], runs[0]), f"{name}: with the KV cache, {_first_difference(runs[1], runs[0])}"


def test_cached_greedy_matches_transformers():
    hf, ours = _hf_pair(13)
    want = _hf_generate(hf, PROMPTS, 16, use_cache=True)
    got = generate(ours, PROMPTS, 16, temperature=0)
    assert torch.equal(got, want), (
        "greedy generate with the KV cache differs from transformers' generate: " + _first_difference(got, want)
    )


def _manual_penalised_greedy(model, idx: torch.Tensor, max_new_tokens: int, penalty: float) -> torch.Tensor:
    """The definition with transformers' own RepetitionPenaltyLogitsProcessor: the model sees the last block_size
    tokens, the penalty covers EVERY token so far (prompt and everything generated, however far back)."""
    from transformers import RepetitionPenaltyLogitsProcessor

    processor = RepetitionPenaltyLogitsProcessor(penalty=penalty)
    ids = idx
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = model(ids[:, -model.config.block_size :])[0][:, -1]
            ids = torch.cat([ids, processor(ids, logits.clone()).argmax(-1, keepdim=True)], dim=1)
    return ids


@pytest.mark.parametrize("use_cache", [False, True])
def test_repetition_penalty_covers_the_whole_history(use_cache):
    model = _gpt(14, vocab_size=24, block_size=6)
    want = _manual_penalised_greedy(model, PROMPTS, 18, 1.8)  # 4 + 18 tokens, a window of 6
    got = generate(model, PROMPTS, 18, temperature=0, repetition_penalty=1.8, use_cache=use_cache)
    assert torch.equal(got, want), (
        f"use_cache={use_cache}, block_size 6, 18 new tokens, repetition_penalty 1.8: {_first_difference(got, want)}. "
        "The model sees only the last block_size tokens, but the repetition penalty covers every token so far "
        "(the whole prompt and everything generated, also what has left the window)"
    )


def test_every_generate_call_starts_with_a_fresh_cache():
    model = _gpt(15)
    first_prompt, second_prompt = PROMPTS, torch.tensor([[7, 7, 2], [0, 11, 4]])
    want_first = generate(model, first_prompt, 6, temperature=0, use_cache=False)
    want_second = generate(model, second_prompt, 6, temperature=0, use_cache=False)
    got = [generate(model, prompt, 6, temperature=0) for prompt in (first_prompt, second_prompt, first_prompt)]
    for run, (g, w) in enumerate(zip(got, (want_first, want_second, want_first))):
        assert torch.equal(g, w), (
            f"call {run + 1} of generate(use_cache=True) on the same model: {_first_difference(g, w)}. The cache "
            "holds one generation's past: make a new KVCache (or reset it) at the start of every call, never keep "
            "the previous call's keys and values"
        )
