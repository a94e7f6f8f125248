"""Lesson 10, part 3: the log-probability of a response, the building block of DPO and PPO.

A language model gives each sequence a probability, one next-token factor at a time:

    log p(response | prompt) = sum over response positions t of  log softmax(logits[t - 1])[ids[t]]

The logits at position t - 1 predict token t (the same shift as training), so the first token of a
sequence has no log-probability. Response tokens are marked by a mask over ``ids``; the prompt and the
padding are left out. Summed, not averaged: DPO compares the probabilities of whole responses, and a mean
would treat a one-token reply and a ten-token reply as if they were equally likely.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def token_logprobs(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """log p(ids[:, t + 1] | ids[:, :t + 1]) for every t: float (B, T - 1).

    ids: int64 (B, T). One forward pass; log_softmax over the vocabulary at positions 0..T-2, then the
    log-probability of the token that actually came next (``gather``).

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    >>> token_logprobs(model, torch.tensor([[1, 2, 3, 4]])).shape
    torch.Size([1, 3])
    """
    raise NotImplementedError('L10 token_logprobs() is not implemented yet: write it in exercises/l10/logprobs.py (stuck? run: llmfs hint L10)')


def sequence_logprobs(model: nn.Module, ids: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """The summed log-probability of the response tokens of each row: float (B,).

    ids: int64 (B, T); response_mask: bool (B, T), True on the tokens of ``ids`` that belong to the response
    (each is scored by the logits one position before it). ValueError if the mask is True at position 0,
    which nothing predicts, or if the shapes differ.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    >>> ids, mask = torch.tensor([[1, 2, 3, 4]]), torch.tensor([[False, False, True, True]])
    >>> torch.allclose(sequence_logprobs(model, ids, mask), token_logprobs(model, ids)[:, 1:].sum(-1))
    True
    """
    if ids.shape != response_mask.shape:
        raise ValueError(f"ids {tuple(ids.shape)} and response_mask {tuple(response_mask.shape)} must have the same shape")
    if response_mask[:, 0].any():
        raise ValueError("response_mask is True at position 0: the first token has no log-probability")
    raise NotImplementedError('L10 sequence_logprobs() is not implemented yet: write it in exercises/l10/logprobs.py (stuck? run: llmfs hint L10)')
