"""Lesson 10, part 4: a reward model trained on preferences (Bradley-Terry).

People find it easier to say which of two replies is better than to score one. A reward model r(x, y)
turns such comparisons into a number: the Bradley-Terry model says the chosen reply wins with probability

    P(chosen > rejected) = sigmoid(r(x, chosen) - r(x, rejected))

and training maximises the log of it: loss = -log sigmoid(r_chosen - r_rejected), averaged over pairs.
Only differences of rewards matter, so the scale's zero is arbitrary (the head needs no bias).

The model is the GPT backbone (blocks and final LayerNorm, no ``lm_head``) with a linear head from the
hidden state to one number, read at the LAST real token of the sequence: with causal attention it is the
only position that has seen the prompt and the whole reply. Batches are right-padded with ``<|pad|>``, so
the last real token is not the last position. (Hugging Face's ``GPT2ForSequenceClassification`` does the
same; the specs use it as the oracle.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def hidden_states(gpt: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """The L07 GPT's final hidden states, after ``ln_f`` and before ``lm_head``: float (B, T, n_embd).

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> hidden_states(GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)), torch.zeros(2, 5, dtype=torch.long)).shape
    torch.Size([2, 5, 8])
    """
    ### BEGIN SOLUTION
    x = gpt.transformer.drop(gpt.transformer.wte(ids) + gpt.transformer.wpe(ids.shape[1]))
    for block in gpt.transformer.h:
        x = block(x)
    return gpt.transformer.ln_f(x)
    ### END SOLUTION


def last_token_index(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """The position of the last token that is not ``pad_id`` in each row: int64 (B,).

    Rows are right-padded. ValueError for a row that is all padding.

    >>> last_token_index(torch.tensor([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]]), pad_id=0)
    tensor([2, 4])
    """
    real = ids != pad_id
    if not real.any(dim=1).all():
        raise ValueError("a row is all padding: it has no last token to score")
    ### BEGIN SOLUTION
    # The running count of real tokens stops growing at the last one, and argmax returns the FIRST maximum.
    return real.cumsum(dim=1).argmax(dim=1)
    ### END SOLUTION


class RewardModel(nn.Module):
    """A GPT backbone with a scalar head: ids (B, T) -> rewards (B,), one per sequence.

    ``gpt``: an L07 GPT (its ``lm_head`` is unused); ``head``: ``nn.Linear(n_embd, 1, bias=False)``;
    ``pad_id``: the padding token, never scored.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> rm = RewardModel(GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)), pad_id=0)
    >>> rm(torch.tensor([[3, 4, 5, 0], [3, 4, 5, 6]])).shape
    torch.Size([2])
    """

    def __init__(self, gpt: nn.Module, pad_id: int):
        super().__init__()
        self.gpt = gpt
        self.pad_id = pad_id
        self.head = nn.Linear(gpt.config.n_embd, 1, bias=False)
        nn.init.normal_(self.head.weight, std=1.0 / (gpt.config.n_embd + 1) ** 0.5)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        hidden = hidden_states(self.gpt, ids)  # (B, T, C)
        last = hidden[torch.arange(ids.shape[0], device=ids.device), last_token_index(ids, pad_id=self.pad_id)]  # (B, C)
        return self.head(last).squeeze(-1)
        ### END SOLUTION


def bradley_terry_loss(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(r_chosen - r_rejected), averaged over the pairs: a scalar.

    chosen_rewards, rejected_rewards: float (B,). Use ``F.logsigmoid`` (stable for large differences), not
    ``torch.log(torch.sigmoid(...))``, which gives -inf once the sigmoid rounds to 0.

    >>> round(bradley_terry_loss(torch.tensor([0.0]), torch.tensor([0.0])).item(), 4)  # log 2: a coin flip
    0.6931
    """
    if chosen_rewards.shape != rejected_rewards.shape:
        raise ValueError(f"shapes differ: chosen {tuple(chosen_rewards.shape)}, rejected {tuple(rejected_rewards.shape)}")
    ### BEGIN SOLUTION
    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()
    ### END SOLUTION


def pairwise_accuracy(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> float:
    """The fraction of pairs the rewards rank right (chosen strictly higher than rejected).

    >>> pairwise_accuracy(torch.tensor([2.0, 0.0, 1.0]), torch.tensor([1.0, 3.0, 1.0]))  # a tie is not right
    0.3333333333333333
    """
    ### BEGIN SOLUTION
    return (chosen_rewards > rejected_rewards).sum().item() / chosen_rewards.numel()
    ### END SOLUTION
