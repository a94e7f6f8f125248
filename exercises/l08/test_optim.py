"""Specs for lesson 8, stages 3-7: the loss, AdamW, parameter groups, the schedule, gradient clipping.

Oracles: ``F.cross_entropy``, ``torch.optim.AdamW`` (float64, many steps, two groups, a changing lr) and
``torch.nn.utils.clip_grad_norm_``; the schedule is checked against its values written out by hand.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..l07.gpt import GPT, GPTConfig
from .optim import AdamW, clip_grad_norm, lm_loss, lr_at, param_groups


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- Stage 3: the language-model loss ----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 5, 7), (1, 1, 3), (3, 16, 50)])
def test_lm_loss_equals_cross_entropy(shape):
    B, T, V = shape
    logits = torch.randn(B, T, V, generator=_gen(1)) * 3
    targets = torch.randint(V, (B, T), generator=_gen(2))
    got = lm_loss(logits, targets)
    want = F.cross_entropy(logits.view(-1, V), targets.view(-1))
    assert got.dim() == 0, f"lm_loss should return a scalar (the mean over all positions), got shape {tuple(got.shape)}"
    assert torch.allclose(got, want, atol=1e-5), (
        f"lm_loss gave {got.item():.6f}, F.cross_entropy gives {want.item():.6f} for logits {shape}: the mean "
        "over all B*T positions of logsumexp(logits) - logits[target]"
    )


def test_lm_loss_gradient_equals_cross_entropy():
    logits = torch.randn(2, 6, 11, generator=_gen(3), dtype=torch.float64, requires_grad=True)
    targets = torch.randint(11, (2, 6), generator=_gen(4))
    (got,) = torch.autograd.grad(lm_loss(logits, targets), logits)
    (want,) = torch.autograd.grad(F.cross_entropy(logits.view(-1, 11), targets.view(-1)), logits)
    assert torch.allclose(got, want, atol=1e-12), (
        f"the gradient of lm_loss differs from F.cross_entropy's by {(got - want).abs().max():.2e} "
        "(it should be (softmax - one_hot) / number of positions)"
    )


def test_lm_loss_ignores_masked_targets():
    logits = torch.randn(3, 8, 9, generator=_gen(5))
    targets = torch.randint(9, (3, 8), generator=_gen(6))
    targets[0, :5] = -100
    targets[2, 3] = -100
    got = lm_loss(logits, targets)
    want = F.cross_entropy(logits.view(-1, 9), targets.view(-1), ignore_index=-100)
    assert torch.allclose(got, want, atol=1e-5), (
        f"with 6 of 24 targets = -100, lm_loss gave {got.item():.5f}, expected {want.item():.5f}: leave the "
        "ignored positions out of the loss AND out of the count you divide by (mean over the 18 that count)"
    )
    targets = targets.clamp(min=0)
    targets[1] = 4
    got = lm_loss(logits, targets, ignore_index=4)
    want = F.cross_entropy(logits.view(-1, 9), targets.view(-1), ignore_index=4)
    assert torch.allclose(got, want, atol=1e-5), "lm_loss must use its ignore_index argument, not a hard-coded -100"
    logits = torch.randn(2, 4, 1, generator=_gen(9))  # a vocabulary of one token: id 0 is the only valid one
    targets = torch.tensor([[0, -100, 0, -100], [-100, 0, 0, 0]])
    try:
        got = lm_loss(logits, targets)
    except (IndexError, RuntimeError) as exc:
        if isinstance(exc, NotImplementedError):
            raise
        raise AssertionError(
            f"lm_loss of logits (2, 4, 1) (a vocabulary of ONE token) with ignored targets failed: "
            f"{' '.join(str(exc).split())[:100]}. Put 0, the one id every vocabulary has, in place of the ignored "
            "targets before gathering (targets.masked_fill(ignored, 0))"
        ) from None
    want = F.cross_entropy(logits.view(-1, 1), targets.view(-1))
    assert torch.allclose(got, want, atol=1e-6), f"with a vocabulary of one token lm_loss gave {got.item()}, expected {want.item()} (0)"


def test_lm_loss_is_stable_for_huge_logits():
    logits = torch.tensor([[[1000.0, 0.0, -1000.0], [0.0, 2000.0, 0.0]]])
    targets = torch.tensor([[0, 2]])
    got = lm_loss(logits, targets)
    want = F.cross_entropy(logits.view(-1, 3), targets.view(-1))
    assert torch.isfinite(got), (
        f"lm_loss gave {got.item()} for logits of size 1000: exp(1000) overflows; use torch.logsumexp (or "
        "log_softmax), which subtracts the max first"
    )
    assert torch.allclose(got, want), f"lm_loss gave {got.item()}, expected {want.item()}"


def test_lm_loss_of_uniform_logits_is_log_vocab():
    got = lm_loss(torch.zeros(2, 3, 64), torch.randint(64, (2, 3), generator=_gen(7)))
    assert math.isclose(got.item(), math.log(64), rel_tol=1e-6), (
        f"equal logits over 64 tokens should give a loss of ln 64 = {math.log(64):.4f} nats, got {got.item():.4f}"
    )


def test_lm_loss_ignore_index_anywhere():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    lm_loss(torch.zeros(1, 1, 2), torch.zeros(1, 1, dtype=torch.long))  # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=40, report_multiple_bugs=False)
    @given(
        B=st.integers(1, 3), T=st.integers(1, 6), V=st.integers(2, 12), scale=st.sampled_from([1.0, 30.0, 1e4]),
        where=st.sampled_from(["-100", "-1", "0", "V-1", "V", "V+1000"]), seed=st.integers(0, 2**16),
    )
    def check(B, T, V, scale, where, seed):
        ignore_index = {"-100": -100, "-1": -1, "0": 0, "V-1": V - 1, "V": V, "V+1000": V + 1000}[where]
        g = _gen(seed)
        logits = torch.randn(B, T, V, generator=g, dtype=torch.float64) * scale
        targets = torch.randint(V, (B, T), generator=g)
        ignored = torch.rand(B, T, generator=g) < 0.4
        ignored.view(-1)[0] = False  # at least one position counts
        targets = targets.masked_fill(ignored & (targets != ignore_index), ignore_index)
        targets.view(-1)[0] = (ignore_index + 1) % V if 0 <= ignore_index < V else 0
        try:
            got = lm_loss(logits, targets, ignore_index=ignore_index)
        except (IndexError, RuntimeError) as exc:
            raise AssertionError(
                f"lm_loss(ignore_index={ignore_index}, vocabulary {V}) failed: {' '.join(str(exc).split())[:120]}. "
                "ignore_index may be any integer, inside the vocabulary or past it: replace the ignored targets by a "
                "valid id (targets.masked_fill(targets == ignore_index, 0)) before gathering, then drop those positions"
            ) from None
        want = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=ignore_index)
        assert got.dtype == torch.float64 and torch.allclose(got, want, rtol=1e-10, atol=1e-10), (
            f"lm_loss(ignore_index={ignore_index}) of float64 logits (B={B}, T={T}, V={V}, scale {scale}) gave "
            f"{got.item():.10f} ({got.dtype}), F.cross_entropy gives {want.item():.10f}: count only the targets "
            "that are not ignore_index, divide by their number, and keep float64 in float64"
        )

    check()


def test_lm_loss_of_half_precision_logits_is_float32():
    g = _gen(8)
    logits = (torch.randn(4, 16, 4096, generator=g) * 4).to(torch.bfloat16)
    targets = torch.randint(4096, (4, 16), generator=g)
    got = lm_loss(logits, targets)
    want = F.cross_entropy(logits.float().view(-1, 4096), targets.view(-1))
    assert got.dtype == torch.float32 and abs(got.item() - want.item()) < 1e-4, (
        f"lm_loss of bfloat16 logits over 4096 tokens gave {got.item():.6f} ({got.dtype}); in float32 it is "
        f"{want.item():.6f}: bfloat16 keeps 8 bits of mantissa, too few for a softmax over thousands of tokens: "
        "turn float16/bfloat16 logits into float32 (logits.float()) first"
    )


# --- Stage 4: AdamW ----------------------------------------------------------------------------------


def _mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 3)).double()


def _run(model: nn.Module, optimizer: torch.optim.Optimizer, steps: range, g: torch.Generator) -> list[torch.Tensor]:
    """Train on random regression batches from ``g`` with a changing lr; the parameters after each step."""
    snapshots = []
    for step in steps:
        x = torch.randn(8, 6, generator=g, dtype=torch.float64)
        target = torch.randn(8, 3, generator=g, dtype=torch.float64)
        for group, scale in zip(optimizer.param_groups, (1.0, 0.5)):
            group["lr"] = 0.02 * scale * (0.5 + 0.5 * math.cos(step / 10))  # a schedule changes lr every step
        loss = ((model(x) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        snapshots.append(torch.cat([p.detach().flatten().clone() for p in model.parameters()]))
    return snapshots


def _groups(model: nn.Module) -> list[dict]:
    params = list(model.parameters())
    return [{"params": params[:2], "weight_decay": 0.3}, {"params": params[2:], "weight_decay": 0.0}]


def test_adamw_matches_torch_over_many_steps():
    ours, theirs = _mlp(0), _mlp(0)
    got = _run(ours, AdamW(_groups(ours), lr=0.02, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1), range(60), _gen(0))
    want = _run(theirs, torch.optim.AdamW(_groups(theirs), lr=0.02, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1), range(60), _gen(0))
    for step, (a, b) in enumerate(zip(got, want)):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12), (
            f"after step {step + 1} your AdamW's parameters differ from torch.optim.AdamW's by "
            f"{(a - b).abs().max():.2e} (float64, two groups with their own weight_decay, lr changing every "
            "step): check the decay (p *= 1 - lr * wd, before the Adam update), both bias corrections, and eps "
            "added AFTER the square root"
        )


def test_adamw_takes_betas_and_eps_from_each_group():
    def groups(model: nn.Module) -> list[dict]:
        params = list(model.parameters())
        return [
            {"params": params[:2], "weight_decay": 0.2, "betas": (0.5, 0.9), "eps": 1e-3},
            {"params": params[2:4], "weight_decay": 0.0},  # the optimizer's defaults
            {"params": params[4:], "weight_decay": 0.05, "betas": (0.0, 0.0), "eps": 0.5},
        ]

    ours, theirs = _mlp(4), _mlp(4)
    settings = dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    got = _run(ours, AdamW(groups(ours), **settings), range(25), _gen(4))
    want = _run(theirs, torch.optim.AdamW(groups(theirs), **settings), range(25), _gen(4))
    for step, (a, b) in enumerate(zip(got, want)):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12), (
            f"after step {step + 1}, with three groups that set their own betas and eps, your AdamW differs from "
            f"torch.optim.AdamW by {(a - b).abs().max():.2e}: read lr, betas, eps and weight_decay from each "
            "group (group['betas'], group['eps']), not from the constructor's arguments or self.defaults"
        )


def test_adamw_first_step_moves_each_weight_by_lr():
    p = nn.Parameter(torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64))
    optimizer = AdamW([p], lr=0.1, betas=(0.9, 0.999), eps=1e-12, weight_decay=0.0)
    p.grad = torch.tensor([1e-3, -50.0, 7.0], dtype=torch.float64)
    optimizer.step()
    moved = (p.detach() - torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)).abs()
    assert torch.allclose(moved, torch.full_like(moved, 0.1), atol=1e-9), (
        f"on its first step Adam moves every weight by exactly lr = 0.1 whatever the gradient's size "
        f"(m_hat / sqrt(v_hat) = g / |g|); got moves {moved.tolist()}. "
        + ("About 3.16 * lr: the bias corrections are missing (divide m by 1 - beta1^t and v by 1 - beta2^t)."
           if torch.allclose(moved, torch.full_like(moved, 0.1 * 0.1 / math.sqrt(0.001)), rtol=1e-3) else "")
    )  # fmt: skip


def test_adamw_weight_decay_is_decoupled():
    p = nn.Parameter(torch.tensor([2.0, -4.0], dtype=torch.float64))
    optimizer = AdamW([p], lr=0.01, weight_decay=0.5)
    p.grad = torch.zeros(2, dtype=torch.float64)  # no gradient: only the decay acts
    optimizer.step()
    want = torch.tensor([2.0, -4.0], dtype=torch.float64) * (1 - 0.01 * 0.5)
    assert torch.allclose(p.detach(), want, atol=1e-12), (
        f"with a zero gradient AdamW should only shrink the weights: p * (1 - lr * weight_decay) = "
        f"{want.tolist()}, got {p.detach().tolist()}. "
        + ("Each moved by lr: you added weight_decay * p to the gradient (L2 regularisation, Adam then "
           "normalises it away); AdamW decays the weights directly, outside the moments."
           if torch.allclose((p.detach() - torch.tensor([2.0, -4.0], dtype=torch.float64)).abs(),
                             torch.full((2,), 0.01, dtype=torch.float64), rtol=1e-3) else "")
    )  # fmt: skip


def test_adamw_skips_parameters_without_gradients():
    used, unused = nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(3))
    optimizer = AdamW([used, unused], lr=0.1, weight_decay=0.1)
    used.grad = torch.ones(3)
    optimizer.step()
    assert torch.equal(unused.detach(), torch.ones(3)), (
        "a parameter whose .grad is None must not change (not even by weight decay): it took no part in this step"
    )
    assert not optimizer.state[unused], "a parameter without gradient should get no optimizer state"
    state = optimizer.state[used]
    assert {"step", "exp_avg", "exp_avg_sq"} <= set(state), (
        f"keep torch's state names (step, exp_avg, exp_avg_sq) so checkpoints read like torch's; got {sorted(state)}"
    )


def test_adamw_state_dict_resumes_exactly():
    straight = _mlp(1)
    want = _run(straight, AdamW(_groups(straight), lr=0.02, weight_decay=0.1), range(10), _gen(3))[-1]
    first, data = _mlp(1), _gen(3)
    optimizer = AdamW(_groups(first), lr=0.02, weight_decay=0.1)
    _run(first, optimizer, range(5), data)
    second = _mlp(2)  # other weights, a fresh optimizer: everything must come from the saved states
    second.load_state_dict(first.state_dict())
    resumed = AdamW(_groups(second), lr=0.02, weight_decay=0.1)
    resumed.load_state_dict(optimizer.state_dict())
    got = _run(second, resumed, range(5, 10), data)[-1]
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-14), (
        "5 steps + state_dict() + load_state_dict() + 5 steps differs from 10 steps straight: keep everything "
        "AdamW needs (step count, exp_avg, exp_avg_sq) in self.state[p], where state_dict() finds it"
    )


def test_adamw_state_follows_the_parameters_device_and_dtype():
    """Generic contract: AdamW's moments live on each parameter's device, in its dtype. Checked on "meta" tensors (a
    device without data): a state made with torch.zeros(p.shape) sits on the CPU, and a GPU run fails."""
    params = [nn.Parameter(torch.empty(4, 3, device="meta", dtype=dtype)) for dtype in (torch.float64, torch.float32)]
    for p in params:
        p.grad = torch.empty_like(p)
    optimizer = AdamW(params, lr=0.01, weight_decay=0.1)
    try:
        optimizer.step()
        optimizer.step()
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        raise AssertionError(
            f"AdamW.step() on parameters on device 'meta' raised: {str(exc)[:150]}: make the moments with "
            "torch.zeros_like(p) (the parameter's device and dtype), not torch.zeros(p.shape)") from None
    for p in params:
        assert p.device.type == "meta" and p.shape == (4, 3), (
            f"AdamW.step() moved or reshaped a parameter: it is now {tuple(p.shape)} on {p.device}; update it in place")

# --- Stage 5: parameter groups -----------------------------------------------------------------------


def _names(model: nn.Module, params: list) -> set[str]:
    by_id = {id(p): name for name, p in model.named_parameters()}
    return {by_id[id(p)] for p in params}


def test_param_groups_of_a_gpt():
    model = GPT(GPTConfig(vocab_size=50, block_size=8, n_layer=2, n_head=2, n_embd=8))
    groups = param_groups(model, 0.1)
    assert isinstance(groups, list) and len(groups) == 2, f"expected a list of 2 groups (decay, no decay), got {groups!r:.80}"
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0, (
        f"group 0 decays with the given weight_decay (0.1), group 1 has weight_decay 0.0; got "
        f"{groups[0]['weight_decay']} and {groups[1]['weight_decay']}"
    )
    decay, no_decay = _names(model, groups[0]["params"]), _names(model, groups[1]["params"])
    want_decay = {n for n in dict(model.named_parameters()) if n.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))}
    wrong = sorted(decay - want_decay)
    assert not wrong, (
        f"these parameters must not decay: {wrong}. Only the weights of nn.Linear layers decay; biases, "
        "LayerNorm weights and embeddings (wte, which lm_head shares, and wpe) do not"
    )
    assert decay == want_decay, f"these Linear weights should decay: {sorted(want_decay - decay)}"
    every = [id(p) for group in groups for p in group["params"]]
    assert len(every) == len(set(every)), "a parameter appears twice: each must be in exactly one group (tied weights once)"
    assert decay | no_decay == set(dict(model.named_parameters())), (
        f"parameters missing from both groups: {sorted(set(dict(model.named_parameters())) - decay - no_decay)}"
    )


def test_param_groups_of_torch_modules_and_frozen_parameters():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2, bias=False))
    model[1].bias.requires_grad_(False)  # frozen: no group
    decay, no_decay = param_groups(model, 0.5)
    assert _names(model, decay["params"]) == {"1.weight", "3.weight"}, (
        f"decay group {sorted(_names(model, decay['params']))}, expected the Linear weights ['1.weight', '3.weight']"
    )
    assert _names(model, no_decay["params"]) == {"0.weight", "2.weight", "2.bias"}, (
        f"no-decay group {sorted(_names(model, no_decay['params']))}, expected the embedding and the LayerNorm "
        "(['0.weight', '2.bias', '2.weight']); the frozen 1.bias (requires_grad=False) belongs to no group"
    )
    optimizer = AdamW(param_groups(model, 0.5))
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.5, 0.0], "the groups should feed AdamW as they are"


def test_param_groups_of_shared_parameters_and_linear_subclasses():
    tied = nn.Sequential(nn.Linear(4, 10, bias=False), nn.Embedding(10, 4), nn.MultiheadAttention(4, 2))
    tied[1].weight = tied[0].weight  # the Linear comes FIRST, the embedding shares its weight
    decay, no_decay = param_groups(tied, 0.1)
    names = dict(tied.named_parameters())
    assert _names(tied, decay["params"]) == {"2.out_proj.weight"}, (
        f"decay group {sorted(_names(tied, decay['params']))}, expected ['2.out_proj.weight']: a weight shared by "
        "a Linear and an embedding does not decay, whichever module comes first (one 'no' wins); and "
        "MultiheadAttention's out_proj is a subclass of nn.Linear, so its weight decays (isinstance, not type(...) is)"
    )
    want = [p for p in tied.parameters() if id(p) not in {id(q) for q in decay["params"]}]
    assert [id(p) for p in no_decay["params"]] == [id(p) for p in want], (
        f"the no-decay group should be {[n for n, p in names.items() if any(p is q for q in want)]} in "
        "model.parameters() order, each once"
    )


# --- Stage 6: the learning-rate schedule -------------------------------------------------------------

SCHEDULE = dict(max_lr=1.0, min_lr=0.1, warmup_steps=10, total_steps=110)
# (step, lr) written out by hand: warm-up (step + 1) / 10, then 0.1 + 0.9 * 0.5 * (1 + cos(pi * (step - 10) / 100))
SCHEDULE_VALUES = [
    (0, 0.1),  # the first step already moves: max_lr / warmup_steps, not 0
    (4, 0.5),
    (9, 1.0),  # the last warm-up step reaches max_lr
    (10, 1.0),  # the decay starts at max_lr
    (35, 0.1 + 0.45 * (1 + math.cos(math.pi * 0.25))),
    (60, 0.55),  # half way through the decay: half way between max_lr and min_lr
    (85, 0.1 + 0.45 * (1 + math.cos(math.pi * 0.75))),
    (109, 0.1 + 0.45 * (1 + math.cos(math.pi * 0.99))),
    (110, 0.1),  # total_steps: exactly the floor
    (111, 0.1),
    (500, 0.1),  # after the schedule: the floor, not a cosine going back up
]


@pytest.mark.parametrize("step,want", SCHEDULE_VALUES)
def test_lr_at_listed_steps(step, want):
    got = lr_at(step, **SCHEDULE)
    hints = {
        0: "step 0 gives max_lr * (step + 1) / warmup_steps = 0.1: with step / warmup_steps the first update has lr 0",
        9: "warm-up ends at max_lr on step warmup_steps - 1: use (step + 1) / warmup_steps",
        110: "the cosine must reach min_lr exactly at total_steps: progress = (step - warmup) / (total - warmup)",
        500: "after total_steps the lr stays at min_lr",
    }
    assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
        f"lr_at({step}, max_lr=1.0, min_lr=0.1, warmup_steps=10, total_steps=110) = {got!r}, expected {want!r}. "
        + hints.get(step, "decay: min_lr + (max_lr - min_lr) * 0.5 * (1 + cos(pi * progress))")
    )


def test_lr_at_shape_of_the_curve():
    lrs = [lr_at(s, **SCHEDULE) for s in range(130)]
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10])), "the warm-up must rise strictly, step after step"
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])), "after the warm-up the lr must never rise again"
    assert min(lrs) == 0.1 and max(lrs) == 1.0, f"the lr should span [min_lr, max_lr] = [0.1, 1.0], got [{min(lrs)}, {max(lrs)}]"


def test_lr_at_edge_cases():
    assert lr_at(0, max_lr=3.0, min_lr=0.3, warmup_steps=0, total_steps=10) == 3.0, (
        "with warmup_steps=0 there is no warm-up: step 0 is max_lr"
    )
    assert lr_at(4, max_lr=3.0, min_lr=3.0, warmup_steps=2, total_steps=10) == 3.0, "min_lr == max_lr: a constant lr"
    assert lr_at(5, max_lr=1.0, min_lr=0.0, warmup_steps=5, total_steps=5) == 0.0, (
        "warmup_steps == total_steps: the warm-up ends on the floor, with no division by zero"
    )
    assert lr_at(3, max_lr=1.0, min_lr=0.0, warmup_steps=5, total_steps=5) == pytest.approx(0.8)


# --- Stage 7: gradient clipping ----------------------------------------------------------------------


def _params_with_grads(seed: int, scale: float) -> list[nn.Parameter]:
    g = _gen(seed)
    params = [nn.Parameter(torch.randn(shape, generator=g, dtype=torch.float64)) for shape in [(4, 3), (3,), (5,), (2, 2)]]
    for p in params[:2] + params[3:]:
        p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * scale
    return params  # params[2] has no gradient


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (0.01, 1.0), (3.0, 5.0), (1.0, 6.0)])  # (1, 6): norm 4.34, just under
def test_clip_grad_norm_matches_torch(scale, max_norm):
    ours, theirs = _params_with_grads(1, scale), _params_with_grads(1, scale)
    got = clip_grad_norm(ours, max_norm)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert isinstance(got, float), f"clip_grad_norm should return the norm as a float, got {type(got).__name__}"
    assert math.isclose(got, want.item(), rel_tol=1e-9), (
        f"returned norm {got:.6f}, torch's clip_grad_norm_ returns {want.item():.6f}: the global norm BEFORE "
        "clipping, sqrt(sum over parameters with a gradient of (grad ** 2).sum())"
    )
    assert ours[2].grad is None, "a parameter without gradient must keep grad None (skip it)"
    for i in (0, 1, 3):
        assert torch.allclose(ours[i].grad, theirs[i].grad, rtol=1e-9, atol=1e-12), (
            f"gradient {i} after clipping differs from torch's (norm {want.item():.3f}, max_norm {max_norm}): "
            "when the global norm exceeds max_norm, multiply EVERY gradient by max_norm / (norm + 1e-6); "
            "otherwise (that factor is 1 or more) leave them unchanged: clipping never lengthens a gradient"
        )


def test_clip_grad_norm_property_against_torch():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    one = nn.Parameter(torch.zeros(1))
    one.grad = torch.ones(1)
    clip_grad_norm([one], 1.0)  # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=40, report_multiple_bugs=False)
    @given(
        shapes=st.lists(st.sampled_from([(), (1,), (3,), (2, 5), (4, 1, 3)]), min_size=1, max_size=5),
        has_grad=st.lists(st.booleans(), min_size=5, max_size=5),
        scale=st.sampled_from([0.0, 1e-3, 1.0, 1e3]), max_norm=st.sampled_from([0.0, 0.5, 1.0, 1e4]),
        seed=st.integers(0, 2**16),
    )
    def check(shapes, has_grad, scale, max_norm, seed):
        def make():
            g = _gen(seed)
            params = [nn.Parameter(torch.randn(shape, generator=g, dtype=torch.float64)) for shape in shapes]
            for p, on in zip(params, has_grad):
                if on:
                    p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * scale
            return params

        ours, theirs = make(), make()
        try:
            got = clip_grad_norm(ours, max_norm)
        except RuntimeError as exc:
            raise AssertionError(
                f"clip_grad_norm failed with {len(shapes)} parameters of which {sum(p.grad is not None for p in theirs)} "
                f"have a gradient: {' '.join(str(exc).split())[:100]}. With no gradient at all, return 0.0 and change nothing"
            ) from None
        want = torch.nn.utils.clip_grad_norm_(theirs, max_norm).item()
        assert isinstance(got, float) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            f"clip_grad_norm returned {got!r}, torch's clip_grad_norm_ {want!r} (shapes {shapes}, gradient scale "
            f"{scale}, max_norm {max_norm}): the global L2 norm before clipping, 0.0 when no parameter has a gradient"
        )
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert (a.grad is None) == (b.grad is None) and (a.grad is None or torch.allclose(a.grad, b.grad, rtol=1e-9, atol=1e-15)), (
                f"gradient {i} after clip_grad_norm(max_norm={max_norm}) differs from torch's (global norm {want:.3g}): "
                "scale every gradient by max_norm / (norm + 1e-6) when that is below 1 (max_norm=0 zeroes them), "
                "leave missing gradients None"
            )

    check()


def test_clip_grad_norm_keeps_the_direction():
    params = _params_with_grads(2, 100.0)
    before = torch.cat([p.grad.flatten() for p in params if p.grad is not None])
    clip_grad_norm(params, 1.0)
    after = torch.cat([p.grad.flatten() for p in params if p.grad is not None])
    cosine = torch.dot(before, after) / (before.norm() * after.norm())
    assert cosine > 1 - 1e-9, (
        f"after clipping, the gradient points elsewhere (cosine {cosine:.4f} with the original): clip the GLOBAL "
        "norm with one scale for all parameters, not each parameter to max_norm on its own"
    )
    assert after.norm().item() == pytest.approx(1.0, rel=1e-5), f"the clipped global norm should be max_norm = 1, got {after.norm():.4f}"


def test_clip_grad_norm_takes_a_generator_once():
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    model(torch.randn(3, 4, generator=_gen(4))).pow(2).sum().mul(100).backward()
    norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()])).item()
    got = clip_grad_norm(model.parameters(), 1.0)  # a generator: it can be read only once
    total = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()])).item()
    assert math.isclose(got, norm, rel_tol=1e-6) and total == pytest.approx(1.0, rel=1e-5), (
        f"with model.parameters() (a generator) the returned norm is {got:.4f} (expected {norm:.4f}) and the "
        f"clipped norm {total:.4f} (expected 1.0): turn the parameters into a list first, a generator is "
        f"empty the second time you loop over it"
    )
