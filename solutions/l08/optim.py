"""Lesson 8, part 2: the loss and the optimizer.

    loss   = mean over positions of -log softmax(logits)[target]           (nats per token)
    AdamW  : m = b1 m + (1 - b1) g          v = b2 v + (1 - b2) g^2         (running moments)
             m_hat = m / (1 - b1^t)         v_hat = v / (1 - b2^t)          (bias correction)
             p = p - lr * wd * p  -  lr * m_hat / (sqrt(v_hat) + eps)       (decoupled decay, then Adam)
    lr(t)  : linear warm-up to max_lr, cosine decay to min_lr, then min_lr
    clip   : g = g * min(1, max_norm / ||all gradients||)                   (one norm for the whole model)
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """The language-model loss: mean cross-entropy of the next-token predictions, in nats per token.

    logits: (B, T, V) unnormalised scores; targets: (B, T) ids, where ``ignore_index`` marks positions
    that do not count (padding, prompts). Every position is one classification over V tokens:

        loss = mean over counted positions of  -log_softmax(logits[b, t])[targets[b, t]]
             = logsumexp(logits[b, t]) - logits[b, t, targets[b, t]]

    Equals ``F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=ignore_index)``,
    computed in float32 at least. ``log_softmax`` subtracts the max (huge logits do not overflow) and is
    one fused pass each way, about twice as fast as logsumexp written out on a (B*T, V) tensor.

    >>> lm_loss(torch.zeros(1, 2, 4), torch.tensor([[0, 3]]))  # uniform over 4 tokens: log 4
    tensor(1.3863)
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)} disagree: expected (B, T, V) and (B, T)")
    ### BEGIN SOLUTION
    logits = logits.reshape(-1, logits.size(-1))
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()  # the sum over the vocabulary needs more than 8-11 bits of mantissa
    targets = targets.reshape(-1)
    counted = targets != ignore_index
    safe = targets.masked_fill(~counted, 0)  # any valid id: these positions are dropped below
    log_probs = logits.log_softmax(dim=-1)  # (N, V)
    nll = -log_probs.gather(1, safe[:, None]).squeeze(1)  # (N,) nats per position
    return nll[counted].mean()  # select after the (N, V) work: no copy of the logits
    ### END SOLUTION


class AdamW(torch.optim.Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW`` computes it.

    For each parameter p with gradient g, at step t = 1, 2, ... of its own:

        p   <- p * (1 - lr * weight_decay)          decay: shrink the weight itself, not the gradient
        m   <- beta1 * m + (1 - beta1) * g           first moment (momentum)
        v   <- beta2 * v + (1 - beta2) * g * g       second moment
        p   <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    m and v start at 0, so early on they are too small by a factor (1 - beta^t): bias correction divides
    it out. Adding ``weight_decay * p`` to the gradient instead (L2 regularisation, what ``torch.optim.Adam``
    does) is NOT the same: Adam would then divide the decay by sqrt(v) too.

    State per parameter (torch's names, so ``state_dict()`` reads like torch's): ``step`` (int),
    ``exp_avg`` (m), ``exp_avg_sq`` (v). Parameter groups may set their own lr and weight_decay.

    >>> p = nn.Parameter(torch.tensor([1.0]))
    >>> opt = AdamW([p], lr=0.1, weight_decay=0.0)
    >>> p.grad = torch.tensor([5.0]); opt.step(); p   # the first step moves by lr, whatever g's size
    Parameter containing:
    tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        if lr < 0.0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if eps < 0.0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        if weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient. Returns the closure's loss, if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                ### BEGIN SOLUTION
                grad = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]

                p.mul_(1.0 - lr * weight_decay)  # decoupled: the decay never passes through m or v
                m.lerp_(grad, 1.0 - beta1)  # m = beta1 * m + (1 - beta1) * g
                v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                bias_correction1 = 1.0 - beta1**t
                bias_correction2 = 1.0 - beta2**t
                denom = (v.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                p.addcdiv_(m, denom, value=-lr / bias_correction1)
                ### END SOLUTION
        return loss


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split a model's trainable parameters into two AdamW groups: with and without weight decay.

    Decay shrinks weights towards 0, which regularises the matrices that mix features: the weights of
    ``nn.Linear`` layers. Biases, LayerNorm scales/shifts and embeddings are left alone: shrinking a
    LayerNorm's scale or a rare token's embedding towards 0 only hurts. A parameter shared by several
    modules (GPT's ``lm_head.weight`` IS ``transformer.wte.weight``) decays only if every module holding
    it is a Linear that uses it as its weight: the tied matrix is also an embedding, so it does not decay.
    Frozen parameters (requires_grad=False) are left out.

    Returns ``[{"params": [...], "weight_decay": weight_decay}, {"params": [...], "weight_decay": 0.0}]``,
    each parameter exactly once, in ``model.parameters()`` order.

    >>> decay, no_decay = param_groups(nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3)), 0.1)
    >>> [tuple(p.shape) for p in decay["params"]], [tuple(p.shape) for p in no_decay["params"]]
    ([(3, 2)], [(3,), (3,), (3,)])
    """
    ### BEGIN SOLUTION
    decays: dict[int, bool] = {}  # id(parameter) -> decay? (False as soon as one holder says no)
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            is_linear_weight = isinstance(module, nn.Linear) and name == "weight"
            decays[id(param)] = decays.get(id(param), True) and is_linear_weight
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if decays[id(p)]], "weight_decay": weight_decay},
        {"params": [p for p in trainable if not decays[id(p)]], "weight_decay": 0.0},
    ]
    ### END SOLUTION


def lr_at(step: int, *, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based: the first update uses lr_at(0)).

    - warm-up, 0 <= step < warmup_steps: linear, ``max_lr * (step + 1) / warmup_steps``, so step 0
      already moves (max_lr / warmup_steps, never 0) and step warmup_steps - 1 reaches max_lr;
    - decay, warmup_steps <= step <= total_steps: cosine from max_lr (at warmup_steps) down to min_lr
      (exactly, at total_steps): ``min_lr + (max_lr - min_lr) * 0.5 * (1 + cos(pi * progress))`` with
      ``progress = (step - warmup_steps) / (total_steps - warmup_steps)``;
    - after total_steps: min_lr (the floor; training past the schedule keeps a small lr).

    >>> [round(lr_at(s, max_lr=1.0, min_lr=0.1, warmup_steps=2, total_steps=6), 4) for s in range(8)]
    [0.5, 1.0, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps, got warmup_steps={warmup_steps}, total_steps={total_steps}")
    if not 0.0 <= min_lr <= max_lr:
        raise ValueError(f"need 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}")
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 -> 1 over the decay
    return min_lr + (max_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
    ### END SOLUTION


def clip_grad_norm(parameters: Iterable[torch.Tensor] | torch.Tensor, max_norm: float) -> float:
    """Scale all gradients down together when their global L2 norm exceeds ``max_norm``; return that norm.

    The global norm treats every gradient of the model as one long vector:
    ``total = sqrt(sum over parameters of ||p.grad||^2)``. If total > max_norm, every gradient is
    multiplied by the same ``max_norm / (total + 1e-6)``, so the update keeps its direction and only
    its length shrinks (clipping each parameter on its own would change the direction). Parameters
    without a gradient are skipped. Equals ``torch.nn.utils.clip_grad_norm_`` (which returns a tensor;
    this returns the norm before clipping as a float).

    >>> p = nn.Parameter(torch.zeros(2)); p.grad = torch.tensor([3.0, 4.0])
    >>> clip_grad_norm([p], max_norm=1.0), p.grad    # norm 5 -> scaled by 1/5
    (5.0, tensor([0.6000, 0.8000]))
    """
    if max_norm < 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    ### BEGIN SOLUTION
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g.mul_(scale)
    return total.item()
    ### END SOLUTION
