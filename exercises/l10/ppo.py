"""Lesson 10, part 6: RLHF proper, with PPO (Schulman et al. 2017; Ouyang et al. 2022).

The policy (the SFT model) writes replies; the reward model scores them; PPO changes the policy so that
replies with a higher score become more likely, while a KL penalty keeps it near the reference (the frozen
SFT model): without it the policy drifts into text that fools the reward model. One iteration:

    1. rollout    sample a reply to each prompt from the policy (L09's ``generate``; ``<|end|>`` stops)
    2. score      old log-probs and values (policy), reference log-probs, the reward model's score
    3. rewards    per reply token: -kl_coef * (log pi - log pi_ref); the last token also gets the score
    4. GAE        advantages A_t and returns (A_t + V_t) from the rewards and the value head's estimates
    5. update     a few gradient steps on the clipped objective (policy) and the clipped value loss

Every reply token is an action; its state is everything before it. Tensors over actions are (B, T - 1),
aligned with ``token_logprobs``: column t is the token ids[:, t + 1], scored by the logits and the value
at position t. ``action_mask = response_mask[:, 1:]`` marks the reply's tokens.

The clipped objective: with ratio = pi(a) / pi_old(a) = exp(log pi - log pi_old),

    L = -mean( min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A) )

once the ratio has moved eps beyond 1 in the direction the advantage wants, the clipped term wins the min
and has no gradient: one batch of samples cannot push the policy arbitrarily far.
"""
from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from ..l09.generate import generate
from .logprobs import token_logprobs
from .reward import hidden_states


class PolicyWithValue(nn.Module):
    """The policy GPT plus a value head: ids (B, T) -> (logits (B, T, vocab), values (B, T)).

    ``values[:, t]`` estimates the return to come after position t (the state "everything up to ids[t]").
    The head ``value_head = nn.Linear(n_embd, 1)`` reads the same final hidden states as ``lm_head``; it
    starts at zero, so the first advantages are the rewards themselves. ``gpt`` is what generates.
    """

    def __init__(self, gpt: nn.Module):
        super().__init__()
        self.gpt = gpt
        self.value_head = nn.Linear(gpt.config.n_embd, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError('L10 PolicyWithValue.forward() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')


def rollout(
    model: nn.Module,
    prompts: list[list[int]],
    *,
    max_new_tokens: int,
    stop_id: int,
    pad_id: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample one reply per prompt: (ids int64 (B, T), response_mask bool (B, T)), in the prompts' order.

    Each row is prompt + reply, right-padded with ``pad_id``; the reply ends with its first ``stop_id``
    (kept: ending the turn is part of the reply) or after ``max_new_tokens``. response_mask is True on the
    reply's tokens. The GPT has no padding mask, so prompts of equal length are generated together, one
    ``generate`` call per length, shortest first (the generator is used in that order), with
    ``stop_tokens=(stop_id,)``: a group stops sampling once all its replies have ended.
    """
    raise NotImplementedError('L10 rollout() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')


def kl_penalized_rewards(
    scores: torch.Tensor,
    logprobs: torch.Tensor,
    reference_logprobs: torch.Tensor,
    action_mask: torch.Tensor,
    kl_coef: float,
) -> torch.Tensor:
    """Per-token rewards (B, T - 1): -kl_coef * (log pi - log pi_ref) on every reply token, plus the reward
    model's score (B,) on the reply's LAST token; 0 outside the reply.

    log pi - log pi_ref, at the sampled token, is a one-sample estimate of the KL divergence: its sum over
    the reply estimates KL(pi || pi_ref) of the whole reply. The penalty is subtracted: moving away from the
    reference costs reward.

    >>> kl_penalized_rewards(torch.tensor([1.0]), torch.tensor([[-1.0, -2.0, -9.0]]),
    ...                      torch.tensor([[-1.5, -1.0, -1.0]]), torch.tensor([[True, True, False]]), kl_coef=0.1)
    tensor([[-0.0500,  1.1000,  0.0000]])
    """
    if not action_mask.any(dim=1).all():
        raise ValueError("a row has no reply token: there is nowhere to put its score")
    raise NotImplementedError('L10 kl_penalized_rewards() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')


def gae(
    rewards: torch.Tensor, values: torch.Tensor, action_mask: torch.Tensor, gamma: float = 1.0, lam: float = 0.95
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016): (advantages, returns), each (B, T - 1).

    Backwards over the reply's tokens, with V = 0 after the reply's last token (the episode has ended):

        delta_t = r_t + gamma * V_{t+1} - V_t
        A_t     = delta_t + gamma * lam * A_{t+1}
        returns = A_t + V_t                     (the value head's targets)

    lam = 0 gives the one-step TD error; lam = 1 (gamma = 1) the Monte-Carlo return minus V_t. Positions
    outside the reply (prompt, padding) get 0 in both. No gradient flows through (computed on detached
    values).

    >>> adv, ret = gae(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]), torch.tensor([[True, True]]), gamma=1.0, lam=1.0)
    >>> adv, ret  # A_1 = 1 - 0.5; A_0 = (0 + 0.5 - 0.5) + 0.5
    (tensor([[0.5000, 0.5000]]), tensor([[1., 1.]]))
    """
    raise NotImplementedError('L10 gae() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of ``x`` over the positions where ``mask`` is True."""
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` shifted and scaled to mean 0, std 1 over the masked positions (0 elsewhere): PPO's advantage
    normalisation, which makes the step size independent of the reward's scale."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask


def ppo_policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    action_mask: torch.Tensor,
    clip_range: float = 0.2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate loss over the reply tokens: (loss, clip_fraction).

    ratio = exp(logprobs - old_logprobs); loss = -masked_mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)).
    clip_fraction: the share of reply tokens where the clipped term is the smaller one (their gradient is 0).
    All (B, T - 1); old_logprobs and advantages are constants (no gradient).

    >>> loss, frac = ppo_policy_loss(torch.log(torch.tensor([[1.5, 1.0]])), torch.zeros(1, 2),
    ...                              torch.tensor([[1.0, -1.0]]), torch.tensor([[True, True]]))
    >>> loss, frac  # token 0: ratio 1.5 clipped to 1.2; token 1: ratio 1
    (tensor(-0.1000), tensor(0.5000))
    """
    raise NotImplementedError('L10 ppo_policy_loss() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')


def ppo_value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    action_mask: torch.Tensor,
    clip_range: float = 0.2,
) -> torch.Tensor:
    """The clipped value loss: 0.5 * masked_mean(max((V - R)^2, (V_clip - R)^2)), V_clip = old V moved at
    most clip_range towards V. Like the policy clip, it stops one batch from moving the values far.
    All (B, T - 1); old_values and returns are constants (no gradient).

    >>> ppo_value_loss(torch.tensor([[1.0]]), torch.tensor([[0.0]]), torch.tensor([[2.0]]), torch.tensor([[True]]))
    tensor(1.6200)
    """
    raise NotImplementedError('L10 ppo_value_loss() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')


def ppo_step(
    policy: PolicyWithValue,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    *,
    clip_range: float = 0.2,
    value_clip_range: float = 0.2,
    value_coef: float = 0.1,
    max_grad_norm: float = 1.0,
) -> dict[str, float]:
    """One gradient update on a rollout batch; returns its statistics.

    batch: ``ids`` (B, T), ``action_mask``, ``old_logprobs``, ``old_values``, ``advantages``, ``returns``
    (each (B, T - 1), computed before the update). Loss = policy loss + value_coef * value loss; gradients
    clipped to ``max_grad_norm``. Returns floats: policy_loss, value_loss, clip_fraction, and approx_kl, the
    mean of (old_logprobs - logprobs) over reply tokens (how far this step started from the rollout policy).
    """
    raise NotImplementedError('L10 ppo_step() is not implemented yet: write it in exercises/l10/ppo.py (stuck? run: llmfs hint L10)')
