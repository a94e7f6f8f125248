"""Lesson 9, part 1: choosing the next token from the model's logits.

A language model gives one score (logit) per vocabulary entry for the next token; softmax turns them into
probabilities. Decoding is the choice of what to do with them:

    greedy        argmax(logits)                             deterministic, often dull and repetitive
    temperature   softmax(logits / T)                        T < 1 sharper, T > 1 flatter, T -> 0 is greedy
    top-k         keep the k largest logits, -inf the rest   never pick from the long tail
    top-p         keep the smallest set of most likely       the tail cut adapts to how sure the model is
                  tokens whose probability reaches p
    repetition    lower the logits of tokens already seen    (CTRL, Keskar et al. 2019)

Every filter returns logits (removed tokens at -inf), so filters compose and softmax stays the last step.
The semantics are those of Hugging Face ``transformers`` (TemperatureLogitsWarper, TopKLogitsWarper,
TopPLogitsWarper, RepetitionPenaltyLogitsProcessor), which the specs use as the oracle.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """The most likely next token: argmax over the last (vocabulary) dimension; ties go to the lowest id.

    logits: (..., vocab) -> int64 ids (...).

    >>> greedy(torch.tensor([[0.1, 2.0, -1.0], [3.0, 3.0, 0.0]]))
    tensor([1, 0])
    """
    raise NotImplementedError('L09 greedy() is not implemented yet: write it in exercises/l09/sampling.py (stuck? run: llmfs hint L09)')


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits divided by the temperature; temperature 0 means greedy (never a division by zero).

    softmax(logits / T) is the distribution at temperature T. As T -> 0 it puts all the mass on the argmax, so
    T == 0 returns the logits with every token but the argmax (the lowest id on a tie) set to -inf.

    logits: (..., vocab) -> (..., vocab). ValueError for a negative or non-finite temperature.

    >>> apply_temperature(torch.tensor([1.0, 2.0, -4.0]), 0.5)
    tensor([ 2.,  4., -8.])
    >>> apply_temperature(torch.tensor([1.0, 2.0, -4.0]), 0)
    tensor([-inf, 2., -inf])
    """
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    raise NotImplementedError('L09 apply_temperature() is not implemented yet: write it in exercises/l09/sampling.py (stuck? run: llmfs hint L09)')


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of each row, set the others to -inf.

    Every logit >= the k-th largest stays, so a tie at the boundary keeps all the tied tokens (as
    ``transformers``' TopKLogitsWarper does). k >= vocab keeps everything. A new tensor: ``logits`` is left as
    it was (the caller may still need it).

    logits: (..., vocab) -> (..., vocab). ValueError unless k is an int >= 1.

    >>> top_k_filter(torch.tensor([1.0, 3.0, 2.0, 0.0]), 2)
    tensor([-inf, 3., 2., -inf])
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k must be an int >= 1, got {k!r}")
    raise NotImplementedError('L09 top_k_filter() is not implemented yet: write it in exercises/l09/sampling.py (stuck? run: llmfs hint L09)')


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering: keep the smallest set of most likely tokens whose total probability reaches p.

    Sorted from most to least likely, a token stays when the tokens before it hold less than p of the mass:
    the token that crosses p stays, and the most likely token always stays (the set is never empty; p = 0
    keeps just the argmax, p = 1 keeps every token of nonzero probability). These are the semantics of
    ``transformers``' TopPLogitsWarper with min_tokens_to_keep=1, which computes the same set from the other
    end: sorted ascending, drop the tokens whose cumulative probability stays <= 1 - p.

    logits: (..., vocab) -> (..., vocab). ValueError unless 0 <= p <= 1.

    >>> probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    >>> top_p_filter(probs.log(), 0.7).exp()              # 0.5 < 0.7, 0.5 + 0.3 reaches 0.7: keep two
    tensor([0.5000, 0.3000, 0.0000, 0.0000])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"top_p must be in [0, 1], got {p}")
    raise NotImplementedError('L09 top_p_filter() is not implemented yet: write it in exercises/l09/sampling.py (stuck? run: llmfs hint L09)')


def apply_repetition_penalty(logits: torch.Tensor, previous_ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """Lower the logit of every token that occurs in ``previous_ids`` (once per token, however often it occurs).

    A positive logit is divided by the penalty, a negative one multiplied by it: both move the token down for
    penalty > 1 (dividing a negative logit would move it UP). penalty < 1 encourages repetition; 1 changes
    nothing. Same as ``transformers``' RepetitionPenaltyLogitsProcessor (CTRL's penalty).

    logits: (B, vocab); previous_ids: int64 (B, T) (the prompt and what was generated). Also (vocab,) with (T,).
    ValueError unless penalty > 0.

    >>> apply_repetition_penalty(torch.tensor([[2.0, -2.0, 1.0]]), torch.tensor([[0, 1, 1]]), 2.0)
    tensor([[ 1., -4.,  1.]])
    """
    if not (math.isfinite(penalty) and penalty > 0):
        raise ValueError(f"repetition penalty must be a finite number > 0, got {penalty}")
    raise NotImplementedError('L09 apply_repetition_penalty() is not implemented yet: write it in exercises/l09/sampling.py (stuck? run: llmfs hint L09)')


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw the next token of each row: temperature, then top-k, then top-p, then sample from the softmax.

    The order is ``transformers``' (temperature first, so top-p sees the tempered distribution).
    temperature 0 is greedy (no random draw). All randomness comes from ``generator`` (torch.multinomial),
    so the same seed gives the same tokens, and the global RNG is left alone when a generator is given.

    logits: (B, vocab) -> int64 ids (B,); (vocab,) -> a 0-d id.

    >>> g = torch.Generator().manual_seed(0)
    >>> sample_next(torch.tensor([[0.0, 50.0, 0.0]]), generator=g)
    tensor([1])
    """
    raise NotImplementedError('L09 sample_next() is not implemented yet: write it in exercises/l09/sampling.py (stuck? run: llmfs hint L09)')
