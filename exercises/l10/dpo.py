"""Lesson 10, part 5: Direct Preference Optimization (DPO, Rafailov et al. 2023).

RLHF fits a reward model, then maximises reward minus a KL penalty to a reference model. DPO notices that
the best policy for that objective is known in closed form, pi*(y|x) ∝ pi_ref(y|x) exp(r(x, y) / beta), so
a policy defines its own implicit reward

    r(x, y) = beta * (log pi(y|x) - log pi_ref(y|x))

and the Bradley-Terry loss of part 4 can train the policy directly, with no reward model and no sampling:

    loss = -log sigmoid( beta * [(log pi(chosen) - log ref(chosen)) - (log pi(rejected) - log ref(rejected))] )

The log-probabilities are sums over the response tokens (part 3); the reference is the frozen SFT model,
whose log-probabilities carry no gradient. beta sets how far the policy may move from the reference: a
small beta needs a large change in log-probabilities for the same loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .logprobs import sequence_logprobs


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    beta: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The DPO loss, averaged over pairs, and the implicit rewards: (loss, chosen_rewards, rejected_rewards).

    Each argument: float (B,), the summed log-probability of a whole response (``sequence_logprobs``).
    chosen_rewards = beta * (policy_chosen_logps - reference_chosen_logps), detached (for logging: the
    policy prefers chosen when chosen_rewards > rejected_rewards); likewise rejected_rewards. When the
    policy IS the reference, every pair's loss is -log sigmoid(0) = log 2. ValueError if beta <= 0.

    >>> loss, chosen, rejected = dpo_loss(torch.tensor([-5.0]), torch.tensor([-7.0]), torch.tensor([-5.0]), torch.tensor([-7.0]))
    >>> round(loss.item(), 4)  # policy == reference: log 2
    0.6931
    """
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    raise NotImplementedError('L10 dpo_loss() is not implemented yet: write it in exercises/l10/dpo.py (stuck? run: llmfs hint L10)')


def dpo_batch_loss(
    policy: nn.Module,
    reference: nn.Module,
    chosen_ids: torch.Tensor,
    chosen_mask: torch.Tensor,
    rejected_ids: torch.Tensor,
    rejected_mask: torch.Tensor,
    beta: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``dpo_loss`` for a batch of pairs, from the two models: (loss, chosen_rewards, rejected_rewards).

    chosen_ids, chosen_mask: (B, T1) prompt + chosen reply, right-padded, mask True on the reply's tokens;
    rejected_ids, rejected_mask: (B, T2) likewise. The policy's log-probabilities carry gradients; the
    reference's are computed under ``torch.no_grad()``: it is frozen, a fixed point to measure from.
    """
    raise NotImplementedError('L10 dpo_batch_loss() is not implemented yet: write it in exercises/l10/dpo.py (stuck? run: llmfs hint L10)')
