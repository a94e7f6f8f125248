"""Specs for lesson 9, part 3: beam search, and the ``sample`` command.

Oracles: brute-force enumeration of every continuation on a 4-token vocabulary (scored with the model's own
full forward pass), and Hugging Face ``transformers``' ``generate(num_beams=..., do_sample=False)`` on the
same GPT-2 weights, across length penalties, the three early-stopping modes, with and without an EOS token.
"""
from __future__ import annotations

import copy
import itertools

import pytest
import torch

from .generate import beam_search, generate
from .test_generate import _gpt, _hf_pair, _manual_greedy


def _log_prob_table(model, prompt: torch.Tensor, vocab: int, max_new: int) -> dict[tuple[int, ...], torch.Tensor]:
    """log p(next token | prompt + prefix) for every prefix of every max_new-token continuation, from ONE
    batched full forward pass over all vocab ** max_new continuations (causal: a prefix never sees what follows)."""
    everything = torch.tensor(list(itertools.product(range(vocab), repeat=max_new)))
    ids = torch.cat([prompt.expand(len(everything), -1), everything], dim=1)
    with torch.no_grad():
        log_probs = model(ids)[0].double().log_softmax(-1)
    T = prompt.shape[1]
    return {
        tuple(row[:n].tolist()): log_probs[r, T - 1 + n]
        for r, row in enumerate(everything)
        for n in range(max_new)
    }


def _score(table, continuation: list[int], length_penalty: float) -> float:
    """sum of log p(token | everything before) over the continuation, divided by len ** length_penalty."""
    total = sum(float(table[tuple(continuation[:i])][token]) for i, token in enumerate(continuation))
    return total / len(continuation) ** length_penalty


def _all_continuations(vocab: int, max_new: int, eos: int | None):
    """Every sequence beam search may return: ending at the first EOS, or with max_new tokens."""
    for n in range(1, max_new + 1):
        for seq in itertools.product(range(vocab), repeat=n):
            if eos is not None and eos in seq[:-1]:
                continue  # it ended at its first EOS
            if n < max_new and seq[-1] != eos:
                continue  # a sequence shorter than max_new must end with EOS
            yield list(seq)


@pytest.mark.parametrize(
    "length_penalty, eos", [(1.0, None), (1.0, 2), (0.0, 2), (2.0, 2), (-1.0, 2), (0.5, 0)]
)
def test_beam_search_matches_brute_force(length_penalty, eos):
    model = _gpt(20, vocab_size=4, scale=3.0)
    prompt = torch.tensor([[1, 3]])
    max_new = 4
    table = _log_prob_table(model, prompt, 4, max_new)
    scored = sorted(
        ((_score(table, seq, length_penalty), seq) for seq in _all_continuations(4, max_new, eos)), reverse=True
    )
    best_score, best = scored[0]
    # With as many beams as there are sequences, nothing is pruned: beam search is exhaustive.
    got = beam_search(
        model, prompt, num_beams=4**max_new, max_new_tokens=max_new, length_penalty=length_penalty,
        early_stopping="never", eos_token_id=eos,
    )  # fmt: skip
    assert got.shape[0] == 1 and torch.equal(got[0, :2], prompt[0]), (
        f"beam_search should return (1, prompt + new tokens) starting with the prompt, got {got.tolist()}"
    )
    continuation = got[0, 2:].tolist()
    assert continuation in [seq for _, seq in scored], (
        f"eos={eos}, max_new_tokens={max_new}: beam search returned {continuation}, which is not a finished "
        "sequence: it must end at its first EOS (kept), or have exactly max_new_tokens tokens"
    )
    got_score = _score(table, continuation, length_penalty)
    assert got_score > best_score - 1e-4, (
        f"length_penalty={length_penalty}, eos={eos}: beam search with enough beams to be exhaustive returned "
        f"{continuation} (score {got_score:.4f}), but {best} scores {best_score:.4f}. A finished sequence scores "
        f"sum(log p) / (generated tokens, EOS included) ** length_penalty; sequences end at EOS or at max_new_tokens"
    )


def _beam_variant(model, prompt, num_beams, max_new, length_penalty, early_stopping, eos, flaw=None) -> list[int]:
    """The docstring's beam search written plainly (full forward passes), with one known mistake switched on by
    ``flaw``: used to NAME the mistake when your beam search differs from transformers'."""
    import torch.nn.functional as F

    beams, scores, finished = [prompt[0].tolist()], torch.zeros(1), []
    for step in range(max_new):
        n = step + 1
        with torch.no_grad():
            logits = model(torch.tensor(beams))[0][:, -1].float()
        step_scores = F.softmax(logits, -1) if flaw == "summing probabilities" else F.log_softmax(logits, -1)
        flat = (step_scores + scores[:, None]).view(-1)
        top, index = flat.topk(min(2 * num_beams, flat.numel()))
        vocab = logits.shape[-1]
        live, live_scores = [], []
        for rank, (score, i) in enumerate(zip(top.tolist(), index.tolist())):
            beam, token = divmod(i, vocab)
            if token == eos or n == max_new:
                if rank < num_beams or flaw == "any rank finishes":
                    length = n + prompt.shape[1] if flaw == "prompt in length" else n
                    norm = score if flaw == "no length normalisation" else score / length**length_penalty
                    finished.append((norm, beams[beam] + [token]))
            elif len(live) < num_beams:
                live.append(beams[beam] + [token])
                live_scores.append(score)
        finished = sorted(finished, key=lambda item: item[0], reverse=True)[:num_beams]
        if not live or n == max_new:
            break
        beams, scores = live, torch.tensor(live_scores)
        if len(finished) == num_beams and flaw != "no early stop":
            if early_stopping is True:
                break
            never = early_stopping == "never" and flaw != "never as False"
            best_n = max_new if never and length_penalty > 0 else n
            if scores[0] / best_n**length_penalty <= finished[-1][0]:
                break
    if flaw == "finished beams dropped":
        return beams[0]
    return finished[0][1]


BEAM_FLAWS = {
    "no length normalisation": "rank a finished sequence by score / n ** length_penalty, not the plain sum",
    "summing probabilities": "add LOG-probabilities (log_softmax), not probabilities",
    "finished beams dropped": "keep the finished hypotheses (EOS or max_new_tokens) and return the best of THEM",
    "any rank finishes": "only candidates among the first num_beams of the 2 * num_beams may finish",
    "prompt in length": "n is the number of GENERATED tokens (EOS included), not the prompt's length too",
    "never as False": "early_stopping='never' bounds a live beam with the best length it can reach (max_new_tokens)",
    "no early stop": "once num_beams hypotheses are finished, apply the stopping rule of early_stopping",
}


def _name_the_beam_mistake(model, prompt, got: list[int], args) -> str:
    named = [f"{flaw}: {fix}" for flaw, fix in BEAM_FLAWS.items() if _beam_variant(model, prompt, *args, flaw=flaw) == got]
    if named:
        return "Your result is what beam search gives with this mistake: " + "; ".join(named)
    return ("Check: only the first num_beams of the 2 * num_beams candidates may finish; a beam that ends leaves the "
            "live beams; the score is divided by the GENERATED length (EOS included) ** length_penalty; the stopping "
            "rule of each early_stopping")


# (seed of the random weights, num_beams, max_new_tokens, length_penalty, early_stopping, eos_token_id): chosen so
# that the three early-stopping modes, positive and negative length penalties and EOS all change the answer.
HF_CASES = [
    (0, 3, 10, 1.0, True, 3),
    (0, 3, 9, 1.0, False, None),
    (0, 2, 10, -1.0, False, 3),
    (0, 3, 10, 0.0, True, 3),
    (5, 3, 10, 2.0, False, 3),
    (6, 3, 10, 1.0, False, 3),
    (6, 2, 10, 2.0, "never", 3),
    # Two hypotheses finish in one step and early_stopping=False would stop: keep only the num_beams best finished
    # ones (a third must not block the stopping rule), and bound a live beam by ITS length n, not max_new_tokens.
    (6, 2, 8, 2.0, False, 3),
    # "never" with 0 < length_penalty <= 1: a live beam is still bounded by max_new_tokens ** length_penalty.
    (36, 2, 10, 1.0, "never", 3),
]


@pytest.mark.parametrize("seed, num_beams, max_new_tokens, length_penalty, early_stopping, eos", HF_CASES)
def test_beam_search_matches_transformers(seed, num_beams, max_new_tokens, length_penalty, early_stopping, eos):
    hf, ours = _hf_pair(seed, vocab_size=8, scale=4.0)
    prompt = torch.tensor([[1, 5, 7]])
    settings = dict(
        num_beams=num_beams, max_new_tokens=max_new_tokens, length_penalty=length_penalty, early_stopping=early_stopping
    )
    want = hf.generate(
        prompt, attention_mask=torch.ones_like(prompt), do_sample=False, eos_token_id=eos, pad_token_id=0, **settings
    )
    oracle_model = copy.deepcopy(ours)  # for naming a mistake, copied before your code sees the model
    got = beam_search(ours, prompt, eos_token_id=eos, **settings)
    if not (got.shape == want.shape and torch.equal(got, want)):
        args = (num_beams, max_new_tokens, length_penalty, early_stopping, eos)
        why = _name_the_beam_mistake(oracle_model, prompt, got[0].tolist(), args)
        raise AssertionError(
            f"num_beams={num_beams}, length_penalty={length_penalty}, early_stopping={early_stopping!r}, eos={eos}: "
            f"beam search gave {got[0, 3:].tolist()}, transformers {want[0, 3:].tolist()}. {why}"
        )


def test_one_beam_without_eos_is_greedy():
    model = _gpt(21)
    prompt = torch.tensor([[2, 4, 6]])
    got = beam_search(model, prompt, num_beams=1, max_new_tokens=10)
    want = generate(model, prompt, 10, temperature=0, use_cache=False)
    assert torch.equal(got, want), (
        f"beam search with one beam and no EOS should be greedy decoding: got {got[0].tolist()}, expected "
        f"{want[0].tolist()}"
    )
    with pytest.raises(ValueError):
        beam_search(model, prompt, num_beams=2, max_new_tokens=30)  # 3 + 30 > block_size


def test_one_beam_is_greedy_up_to_the_first_eos():
    model = _gpt(21)
    prompt = torch.tensor([[2, 4, 6]])
    greedy = _manual_greedy(model, prompt, 10)[0, 3:].tolist()
    # EOS = greedy's first token, or one it first makes at step 8; each early_stopping that stops.
    cases = [(greedy[0], 1.0, False), (greedy[7], 2.0, False), (greedy[7], 1.0, True)]
    for eos, length_penalty, early_stopping in cases:
        want = [2, 4, 6] + greedy[: greedy.index(eos) + 1]
        got = beam_search(
            model, prompt, num_beams=1, max_new_tokens=10, length_penalty=length_penalty,
            early_stopping=early_stopping, eos_token_id=eos,
        )[0].tolist()  # fmt: skip
        assert got == want, (
            f"num_beams=1, eos={eos}, length_penalty={length_penalty}, early_stopping={early_stopping}: beam search "
            f"gave {got[3:]}, expected greedy decoding up to its first EOS, {want[3:]}. With one beam the EOS "
            "hypothesis finishes when it is the argmax (rank 0 < num_beams); then num_beams = 1 hypotheses are "
            "finished, and the live beam (the runner-up, same length, lower score) cannot beat it: stop. Compare "
            "beam_scores[0] (the BEST live beam) / n ** length_penalty, n = its current length, with finished[-1] "
            "(the worst of the num_beams kept), and break out of the loop"
        )


def _uniform_gpt():
    """All weights 0: every logit is 0, every token equally likely, so every score ties."""
    return _gpt(23, vocab_size=4, scale=0.0)


def test_beam_search_on_ties():
    model, prompt = _uniform_gpt(), torch.tensor([[1, 3]])
    runs = {}
    for eos in range(4):
        # All hypotheses of one length tie; length_penalty=2 makes the longer ones better (-log 4 / n).
        got = beam_search(
            model, prompt, num_beams=1, max_new_tokens=4, length_penalty=2.0, early_stopping=False, eos_token_id=eos
        )[0, 2:].tolist()
        ends = got[-1] == eos and eos not in got[:-1] or len(got) == 4 and eos not in got
        assert ends, f"eos={eos}: beam search returned {got}, which is not a finished sequence"
        runs[eos] = got
    assert any(got == [eos] for eos, got in runs.items()), (
        f"every token equally likely, num_beams=1, length_penalty=2, early_stopping=False: for eos = 0, 1, 2, 3 beam "
        f"search returned {runs}. In the run whose EOS is the first of the tied candidates, the EOS hypothesis "
        "finishes at step 1 and the live beam TIES with it (same score, same length): a tie cannot beat the worst "
        "finished hypothesis, so the search must stop there and return [eos] (stop when best live score / n ** "
        "length_penalty <= worst finished score, not <)"
    )
    # length_penalty 1: every finished hypothesis scores exactly -log 4, and many are kept at once.
    got = beam_search(
        model, prompt, num_beams=3, max_new_tokens=4, length_penalty=1.0, early_stopping="never", eos_token_id=2
    )[0, 2:].tolist()
    assert 1 <= len(got) <= 4 and 2 not in got[:-1] and (got[-1] == 2 or len(got) == 4), (
        f"eos=2, all hypotheses tied: beam search returned {got}, not a finished sequence (ties among finished "
        "hypotheses: sort them by their score alone, key=lambda item: item[0])"
    )


# --- Stage 11: the sample command --------------------------------------------------------------------


def test_sample_command(tmp_path, capsys, data_dir):
    from dataclasses import asdict

    from ..l01.bpe import RegexTokenizer
    from . import sample

    tokenizer = RegexTokenizer()
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20_000], 356)
    tokenizer.save(tmp_path / "tokenizer")
    model = _gpt(22, vocab_size=356, block_size=32, n_embd=16, scale=2.0)
    checkpoint = {"model": model.state_dict(), "config": asdict(model.config), "tokenizer_dir": "tokenizer"}
    torch.save(checkpoint, tmp_path / "model.pt")  # the layout of L08's shipped model.pt
    prompt = "ROMEO:\nWhat say you"
    idx = torch.tensor([tokenizer.encode(prompt)])

    assert sample.main(["--checkpoint", str(tmp_path), "--prompt", prompt, "--max-new-tokens", "8",
                        "--temperature", "0"]) == 0  # fmt: skip
    want = prompt + tokenizer.decode(generate(model, idx, 8, temperature=0)[0, idx.shape[1] :].tolist()) + "\n"
    assert capsys.readouterr().out == want, "the sample command (greedy) should print the prompt and its continuation"

    argv = ["--checkpoint", str(tmp_path / "model.pt"), "--prompt", prompt, "--max-new-tokens", "8", "--seed", "3",
            "--top-k", "50"]  # fmt: skip
    outputs = []
    for _ in range(2):
        sample.main(argv)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and outputs[0].startswith(prompt), "the same --seed should print the same text"

    sample.main(["--checkpoint", str(tmp_path), "--prompt", prompt, "--max-new-tokens", "6", "--beams", "3"])
    best = beam_search(model, idx, num_beams=3, max_new_tokens=6)
    assert capsys.readouterr().out == prompt + tokenizer.decode(best[0, idx.shape[1] :].tolist()) + "\n", (
        "sample --beams 3 should print the beam search result"
    )
