"""The whole path from a pretrained checkpoint to a chat model: SFT -> reward model -> DPO and PPO.

    python -m exercises.l10.finetune                                   # your code, the shipped checkpoint
    python -m exercises.l10.finetune --checkpoint runs/l08/ckpt.pt --out runs/l10
    python -m exercises.l10.chat runs/l10/ppo                          # then talk to the result
    python -m solutions.l10.finetune --ship data/checkpoints/shakespeare-chat   # the course's chat model

Each stage is a short loop over the lesson's functions, measured on held-out data (``data/chat/*_test``)
and saved under ``--out`` (a folder per model, in L08's checkpoint format, with the tokenizer that knows
the chat tokens):

    sft      the pretrained model trained on the instruction set, loss on assistant tokens only
    reward   the SFT backbone with a scalar head, trained on the preference pairs (Bradley-Terry)
    dpo      the SFT model trained on the pairs with DPO (the SFT model is the frozen reference)
    ppo      the SFT model trained with PPO against the reward model, KL-penalised to the SFT model

Printed (and written to ``metrics.json``): the chat-format rate and per-task accuracy of each model, the
reward model's accuracy on held-out pairs, the rate of the preferred behaviour, and the KL divergence to
the SFT model. ``llmfs bench finetune`` runs this on the reference code and times it.
"""
from __future__ import annotations

import copy
import json
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..l01.bpe import RegexTokenizer
from ..l07.gpt import GPT
from ..l08.optim import AdamW, clip_grad_norm, lr_at, param_groups
from ..l08.train import config_from_command_line, load_model, save_checkpoint, train_step
from .chat import load_chat
from .dpo import dpo_batch_loss
from .logprobs import sequence_logprobs, token_logprobs
from .make_data import KINDS, TASKS, check_reply, preferred, read_jsonl
from .ppo import PolicyWithValue, gae, kl_penalized_rewards, masked_mean, rollout, ppo_step, whiten
from .reward import RewardModel, bradley_terry_loss, pairwise_accuracy
from .sft import collate, sft_example
from .template import ASSISTANT, END, PAD, USER, render_chat

COURSE_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FinetuneConfig:
    """Every knob of the path; the defaults are the recipe ``llmfs bench finetune`` measures."""

    checkpoint: str = str(COURSE_ROOT / "data" / "checkpoints" / "shakespeare")  # the pretrained model (L08's format)
    data_dir: str = str(COURSE_ROOT / "data" / "chat")  # sft_*.jsonl and prefs_*.jsonl, written by make_data.py
    out: str | None = None  # a folder for the fine-tuned checkpoints and metrics.json; None saves nothing
    ship: str | None = None  # also write the PPO model here with float16 weights (data/checkpoints/shakespeare-chat)
    seed: int = 1337  # seeds every stage (stage k uses seed + k)
    # SFT
    sft_steps: int = 800  # optimizer steps of supervised fine-tuning
    sft_batch_size: int = 32  # conversations per step
    sft_lr: float = 1e-3  # peak learning rate (warmup, then cosine decay to a tenth)
    # reward model
    reward_steps: int = 200  # optimizer steps of the Bradley-Terry reward model
    reward_batch_size: int = 32  # preference pairs per step
    reward_lr: float = 3e-4  # peak learning rate
    # DPO
    dpo_steps: int = 150  # optimizer steps of DPO, from the SFT model
    dpo_batch_size: int = 16  # preference pairs per step
    dpo_lr: float = 3e-5  # peak learning rate
    dpo_beta: float = 0.1  # DPO's beta: the weight of the implicit KL to the SFT model (larger stays closer)
    dpo_nll_coef: float = 1.0  # + this times the chosen replies' mean NLL per token (trl: loss_type=["sigmoid", "sft"])
    # PPO
    ppo_iterations: int = 80  # rollout-and-update rounds, from the SFT model
    ppo_batch_size: int = 32  # prompts rolled out per round
    ppo_epochs: int = 2  # passes over each round's rollouts
    ppo_minibatch_size: int = 16  # rollouts per PPO update
    ppo_lr: float = 5e-5  # learning rate (constant: no schedule)
    kl_coef: float = 0.2  # the per-token KL penalty to the SFT model in the reward
    format_penalty: float = 1.0  # subtracted from the (standardised) score of a reply that breaks the chat format
    max_new_tokens: int = 24  # the longest PPO rollout reply
    # evaluation: greedy replies to the held-out prompts
    eval_max_new_tokens: int = 32  # the longest reply when evaluating
    weight_decay: float = 0.0  # AdamW's decoupled decay in every stage
    warmup_steps: int = 20  # linear warmup steps of the SFT, reward-model and DPO schedules


# ----------------------------------------------------------------------------------------------------
# Models and batches


def save_chat_model(directory: Path, model: GPT, tokenizer: RegexTokenizer, half: bool = False, **extra) -> None:
    """``directory/model.pt`` (weights + config, L08's format; float16 weights with ``half``, as L08 ships)
    and ``directory/tokenizer/`` (which knows the chat tokens)."""
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(directory / "tokenizer")
    weights = {name: t.half() if half and t.is_floating_point() else t for name, t in model.state_dict().items()}
    state = {"model": weights, "config": asdict(model.config), "tokenizer_dir": "tokenizer", **extra}
    save_checkpoint(directory / "model.pt", state)


def reply_ids(tokenizer: RegexTokenizer, prompt: list[dict], reply: str) -> tuple[list[int], list[bool]]:
    """prompt + the assistant's reply, rendered: (ids, mask True on the reply's tokens and its <|end|>)."""
    return render_chat(tokenizer, prompt + [{"role": "assistant", "content": reply}])


def pad_rows(rows: list[list[int]], masks: list[list[bool]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token rows: (ids int64 (B, T), mask bool (B, T))."""
    T = max(map(len, rows))
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    mask = torch.zeros(len(rows), T, dtype=torch.bool)
    for row, (tokens, flags) in enumerate(zip(rows, masks)):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(flags)] = torch.tensor(flags)
    return ids, mask


def pair_batch(tokenizer: RegexTokenizer, pairs: list[dict]) -> tuple[torch.Tensor, ...]:
    """(chosen_ids, chosen_mask, rejected_ids, rejected_mask) for preference pairs, right-padded."""
    pad = tokenizer.special_tokens[PAD]
    chosen = [reply_ids(tokenizer, pair["prompt"], pair["chosen"]) for pair in pairs]
    rejected = [reply_ids(tokenizer, pair["prompt"], pair["rejected"]) for pair in pairs]
    return (*pad_rows(*zip(*chosen), pad), *pad_rows(*zip(*rejected), pad))


def batches(n_items: int, batch_size: int, steps: int, generator: torch.Generator):
    """Index batches for ``steps`` steps: shuffled epochs, every item once per epoch."""
    order: list[int] = []
    for _ in range(steps):
        if len(order) < batch_size:
            order += torch.randperm(n_items, generator=generator).tolist()
        yield order[:batch_size]
        order = order[batch_size:]


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> AdamW:
    return AdamW(param_groups(model, weight_decay), lr=lr, betas=(0.9, 0.95))


def update(model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    """One optimizer step on ``loss``: backward, gradients clipped to norm 1 (L08's ``clip_grad_norm``), step.
    Returns the loss as a float."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip_grad_norm(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()


def set_lr(optimizer: torch.optim.Optimizer, step: int, max_lr: float, total_steps: int, warmup_steps: int) -> None:
    lr = lr_at(step, max_lr=max_lr, min_lr=max_lr / 10, warmup_steps=warmup_steps, total_steps=total_steps)
    for group in optimizer.param_groups:
        group["lr"] = lr


# ----------------------------------------------------------------------------------------------------
# The four stages


def train_sft(model: GPT, tokenizer: RegexTokenizer, conversations: list[dict], cfg: FinetuneConfig) -> list[float]:
    """SFT with L08's loop: its ``train_step`` (lm_loss ignores the -100 targets, so it computes ``sft_loss``),
    AdamW, schedule and clipping. Returns the losses."""
    rendered = [render_chat(tokenizer, row["messages"]) for row in conversations]
    examples = [sft_example(ids, mask, model.config.block_size) for ids, mask in rendered]
    optimizer = make_optimizer(model, cfg.sft_lr, cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    losses = []
    model.train()
    for step, index in enumerate(batches(len(examples), cfg.sft_batch_size, cfg.sft_steps, generator)):
        set_lr(optimizer, step, cfg.sft_lr, cfg.sft_steps, cfg.warmup_steps)
        x, y = collate([examples[i] for i in index], tokenizer.special_tokens[PAD])
        losses.append(train_step(model, optimizer, [(x, y)], grad_clip=1.0))
    return losses


def train_reward(rm: RewardModel, tokenizer: RegexTokenizer, pairs: list[dict], cfg: FinetuneConfig) -> list[float]:
    """Bradley-Terry training of the reward model on the training pairs. Returns the losses."""
    optimizer = make_optimizer(rm, cfg.reward_lr, cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed + 1)
    losses = []
    rm.train()
    for step, index in enumerate(batches(len(pairs), cfg.reward_batch_size, cfg.reward_steps, generator)):
        set_lr(optimizer, step, cfg.reward_lr, cfg.reward_steps, cfg.warmup_steps)
        chosen_ids, _, rejected_ids, _ = pair_batch(tokenizer, [pairs[i] for i in index])
        losses.append(update(rm, optimizer, bradley_terry_loss(rm(chosen_ids), rm(rejected_ids))))
    return losses


def train_dpo(policy: GPT, reference: GPT, tokenizer: RegexTokenizer, pairs: list[dict], cfg: FinetuneConfig) -> list[float]:
    """DPO on the training pairs against the frozen reference. Returns the losses.

    With ``dpo_nll_coef`` > 0 the loss also has the chosen replies' negative log-likelihood per token (RPO,
    Pang et al. 2024; trl's ``loss_type=["sigmoid", "sft"]``): DPO alone only widens the gap between chosen
    and rejected, and can do it by making both less likely, which on a small model unlearns what the two
    share (the names a greeting copies, the sums); the NLL term keeps the chosen replies likely.
    """
    optimizer = make_optimizer(policy, cfg.dpo_lr, cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed + 2)
    losses = []
    policy.train()
    for step, index in enumerate(batches(len(pairs), cfg.dpo_batch_size, cfg.dpo_steps, generator)):
        set_lr(optimizer, step, cfg.dpo_lr, cfg.dpo_steps, cfg.warmup_steps)
        chosen_ids, chosen_mask, rejected_ids, rejected_mask = pair_batch(tokenizer, [pairs[i] for i in index])
        loss, _, _ = dpo_batch_loss(policy, reference, chosen_ids, chosen_mask, rejected_ids, rejected_mask, beta=cfg.dpo_beta)
        if cfg.dpo_nll_coef:  # the chosen replies' summed log-probabilities, per reply token
            loss = loss - cfg.dpo_nll_coef * sequence_logprobs(policy, chosen_ids, chosen_mask).sum() / chosen_mask.sum()
        losses.append(update(policy, optimizer, loss))
    return losses


def train_ppo(
    policy: GPT, reference: GPT, rm: RewardModel, tokenizer: RegexTokenizer, prompts: list[list[dict]], cfg: FinetuneConfig
) -> list[dict]:
    """PPO against the reward model (scores standardised by ``rm.score_mean/std``, minus ``format_penalty`` for a
    reply that breaks the chat format). Returns per-iteration statistics."""
    special = tokenizer.special_tokens
    prompt_ids = [render_chat(tokenizer, prompt, add_generation_prompt=True)[0] for prompt in prompts]
    agent = PolicyWithValue(policy)
    optimizer = make_optimizer(agent, cfg.ppo_lr, cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed + 3)
    history = []
    for index in batches(len(prompt_ids), cfg.ppo_batch_size, cfg.ppo_iterations, generator):
        agent.eval()
        ids, response_mask = rollout(
            policy, [prompt_ids[i] for i in index], max_new_tokens=cfg.max_new_tokens,
            stop_id=special[END], pad_id=special[PAD], temperature=1.0, generator=generator,
        )  # fmt: skip
        action_mask = response_mask[:, 1:]
        with torch.no_grad():
            logits, values = agent(ids[:, :-1])
            old_logprobs = F.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
            reference_logprobs = token_logprobs(reference, ids)
            scores = (rm(ids) - rm.score_mean) / rm.score_std
            # The reward model never saw an empty or endless reply and may like one: a rule says it is wrong
            # (trl's missing_eos_penalty is the same idea).
            broken = torch.tensor([not follows_format(tokenizer, reply) for reply in replies_of(ids, response_mask)])
            scores = scores - cfg.format_penalty * broken
            rewards = kl_penalized_rewards(scores, old_logprobs, reference_logprobs, action_mask, cfg.kl_coef)
            advantages, returns = gae(rewards, values, action_mask)
            advantages = whiten(advantages, action_mask)
        batch = {
            "ids": ids, "action_mask": action_mask, "old_logprobs": old_logprobs, "old_values": values,
            "advantages": advantages, "returns": returns,
        }  # fmt: skip
        agent.train()
        stats = []
        for _ in range(cfg.ppo_epochs):
            for start in range(0, len(index), cfg.ppo_minibatch_size):
                rows = slice(start, start + cfg.ppo_minibatch_size)
                stats.append(ppo_step(agent, optimizer, {key: value[rows] for key, value in batch.items()}))
        kl = masked_mean(old_logprobs - reference_logprobs, action_mask) * action_mask.sum() / len(index)
        history.append({"score": scores.mean().item(), "kl": kl.item(), **stats[-1]})
    policy.eval()
    return history


# ----------------------------------------------------------------------------------------------------
# Measurements on held-out data


def greedy_rollout(model: GPT, tokenizer: RegexTokenizer, prompts: list[list[dict]], max_new_tokens: int):
    """The model's greedy reply to each prompt: (ids (B, T), reply mask (B, T)) as ``rollout`` gives them."""
    special = tokenizer.special_tokens
    prompt_ids = [render_chat(tokenizer, prompt, add_generation_prompt=True)[0] for prompt in prompts]
    return rollout(model, prompt_ids, max_new_tokens=max_new_tokens, stop_id=special[END], pad_id=special[PAD], temperature=0.0)


def replies_of(ids: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
    """Each row's reply tokens (ending with <|end|> when the model ended its turn)."""
    return [row[flags].tolist() for row, flags in zip(ids, mask)]


def follows_format(tokenizer: RegexTokenizer, reply: list[int]) -> bool:
    """A reply in the chat format: some content, no role or pad token, and it ends its turn with <|end|>."""
    special = tokenizer.special_tokens
    forbidden = {special[USER], special[ASSISTANT], special[PAD], special[END]}
    return len(reply) >= 2 and reply[-1] == special[END] and not forbidden & set(reply[:-1])


def reply_text(tokenizer: RegexTokenizer, reply: list[int]) -> str:
    end = tokenizer.special_tokens[END]
    return tokenizer.decode(reply[:-1] if reply and reply[-1] == end else reply)


def evaluate_chat(model: GPT, tokenizer: RegexTokenizer, conversations: list[dict], max_new_tokens: int) -> dict:
    """Format rate and per-task accuracy of greedy replies to the held-out first user turns."""
    prompts = [row["messages"][:1] for row in conversations]
    replies = replies_of(*greedy_rollout(model, tokenizer, prompts, max_new_tokens))
    result = {"format": sum(follows_format(tokenizer, r) for r in replies) / len(replies), "tasks": {}}
    for task in TASKS:
        rows = [(row, reply) for row, reply in zip(conversations, replies) if row["task"] == task]
        right = [follows_format(tokenizer, r) and check_reply(task, row["messages"][0]["content"], reply_text(tokenizer, r))
                 for row, r in rows]  # fmt: skip
        result["tasks"][task] = sum(right) / max(len(right), 1)
    return result


def evaluate_preferences(tokenizer: RegexTokenizer, pairs: list[dict], replies: list[list[int]]) -> dict:
    """The rate of the preferred behaviour in the replies to the preference prompts, overall and by kind."""
    ok = [
        follows_format(tokenizer, r) and preferred(pair["kind"], pair["task"], pair["prompt"][-1]["content"], reply_text(tokenizer, r))
        for pair, r in zip(pairs, replies)
    ]  # fmt: skip
    by_kind = {kind: [o for o, pair in zip(ok, pairs) if pair["kind"] == kind] for kind in KINDS}
    return {"preferred": sum(ok) / len(ok), "kinds": {k: sum(v) / max(len(v), 1) for k, v in by_kind.items()}}


@torch.no_grad()
def reward_accuracy(rm: RewardModel, tokenizer: RegexTokenizer, pairs: list[dict]) -> float:
    rm.eval()
    chosen, rejected = [], []
    for start in range(0, len(pairs), 64):
        chosen_ids, _, rejected_ids, _ = pair_batch(tokenizer, pairs[start : start + 64])
        chosen.append(rm(chosen_ids))
        rejected.append(rm(rejected_ids))
    return pairwise_accuracy(torch.cat(chosen), torch.cat(rejected))


@torch.no_grad()
def kl_to_reference(model: GPT, reference: GPT, ids: torch.Tensor, mask: torch.Tensor) -> float:
    """KL(model || reference) per reply, in nats: at each reply position the exact KL of the two next-token
    distributions, summed over the reply, averaged over the replies (ids, mask: the model's own replies)."""
    total = 0.0
    for start in range(0, len(ids), 64):
        rows = slice(start, start + 64)
        logp = F.log_softmax(model(ids[rows, :-1])[0], dim=-1)
        logq = F.log_softmax(reference(ids[rows, :-1])[0], dim=-1)
        kl = (logp.exp() * (logp - logq)).sum(-1)  # (B, T - 1): column t is the KL before token t + 1
        total += (kl * mask[rows, 1:]).sum().item()
    return total / len(ids)


# ----------------------------------------------------------------------------------------------------
# The path


@contextmanager
def deterministic_algorithms():
    """``torch.use_deterministic_algorithms(True)`` inside (also as a decorator), the caller's setting after.

    L02's embedding is ``weight[ids]``, whose backward on the CPU (``index_put_`` with accumulate) adds the
    rows of repeated ids in whatever order the threads finish: two seeded runs differ in the last bits after
    one step, and once PPO samples a different token they part ways (its preferred rate spread over
    88.8-96.2% in seven runs). PyTorch's deterministic kernels cost no measurable time here and make a run
    repeat exactly on the same number of threads.
    """
    enabled = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled)


@deterministic_algorithms()
def run(cfg: FinetuneConfig, log=print) -> dict:
    """SFT -> reward model -> DPO and PPO, each measured on held-out data. Returns the metrics; the same
    config on the same number of threads gives the same metrics and checkpoints, bit for bit."""
    start = time.perf_counter()
    data = Path(cfg.data_dir)
    sft_train, sft_test = read_jsonl(data / "sft_train.jsonl"), read_jsonl(data / "sft_test.jsonl")
    prefs_train, prefs_test = read_jsonl(data / "prefs_train.jsonl"), read_jsonl(data / "prefs_test.jsonl")
    out = Path(cfg.out) if cfg.out else None
    metrics: dict = {"config": asdict(cfg), "seconds": {}}

    def done(stage: str, t0: float) -> None:
        metrics["seconds"][stage] = time.perf_counter() - t0
        log(f"[{stage}] {metrics['seconds'][stage]:.0f} s (total {time.perf_counter() - start:.0f} s)")

    def finish(name: str, t0: float, model: GPT, reference: GPT | None) -> None:
        """The end of a stage that fine-tunes the policy: its model measured on the held-out data (KL to
        ``reference`` if given), the stage's time (measurement included, as the reward model's), its checkpoint
        in ``out``."""
        result = evaluate_chat(model, tokenizer, sft_test, cfg.eval_max_new_tokens)
        ids, mask = greedy_rollout(model, tokenizer, [pair["prompt"] for pair in prefs_test], cfg.eval_max_new_tokens)
        result.update(evaluate_preferences(tokenizer, prefs_test, replies_of(ids, mask)))
        if reference is not None:
            result["kl"] = kl_to_reference(model, reference, ids, mask)
        metrics[name] = result
        log(f"[{name}] format {result['format']:.1%}, preferred {result['preferred']:.1%} "
            + " ".join(f"{task} {acc:.0%}" for task, acc in result["tasks"].items())
            + (f", KL to SFT {result['kl']:.2f} nats/reply" if "kl" in result else ""))  # fmt: skip
        done(name, t0)
        if out:
            save_chat_model(out / name, model, tokenizer)

    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    model, tokenizer, _ = load_chat(cfg.checkpoint)
    metrics["sft_loss"] = train_sft(model, tokenizer, sft_train, cfg)
    model.eval()
    finish("sft", t0, model, None)

    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed + 1)
    rm = RewardModel(copy.deepcopy(model), pad_id=tokenizer.special_tokens[PAD])
    metrics["reward_loss"] = train_reward(rm, tokenizer, prefs_train, cfg)
    with torch.no_grad():  # the scale PPO standardises scores with
        rm.eval()
        chosen_ids, _, rejected_ids, _ = pair_batch(tokenizer, prefs_train[:256])
        train_scores = torch.cat([rm(chosen_ids), rm(rejected_ids)])
        rm.score_mean, rm.score_std = train_scores.mean().item(), train_scores.std().item()
    metrics["reward"] = {"accuracy": reward_accuracy(rm, tokenizer, prefs_test)}
    done("reward", t0)
    log(f"[reward] held-out pair accuracy {metrics['reward']['accuracy']:.1%}")
    if out:
        save_chat_model(out / "reward", rm.gpt, tokenizer, head=rm.head.state_dict(),
                        score_mean=rm.score_mean, score_std=rm.score_std)  # fmt: skip

    reference = copy.deepcopy(model).eval().requires_grad_(False)
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed + 2)
    dpo_model = copy.deepcopy(model)
    metrics["dpo_loss"] = train_dpo(dpo_model, reference, tokenizer, prefs_train, cfg)
    dpo_model.eval()
    finish("dpo", t0, dpo_model, reference)

    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed + 3)
    ppo_model = copy.deepcopy(model)
    rm.requires_grad_(False).eval()
    metrics["ppo_history"] = train_ppo(ppo_model, reference, rm, tokenizer, [pair["prompt"] for pair in prefs_train], cfg)
    finish("ppo", t0, ppo_model, reference)
    if cfg.ship:
        save_chat_model(Path(cfg.ship), ppo_model, tokenizer, half=True, metrics={
            name: {key: metrics[name][key] for key in ("format", "tasks", "preferred", "kinds")} for name in ("sft", "ppo")
        })  # fmt: skip

    metrics["seconds"]["total"] = time.perf_counter() - start
    if out:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    return metrics


def config_from_args(argv: list[str] | None = None) -> FinetuneConfig:
    """Every FinetuneConfig field as a --flag (``--sft-steps 200``), with L08's command-line reader."""
    return config_from_command_line(
        FinetuneConfig, argv, prog="python -m exercises.l10.finetune",
        description="SFT -> reward model -> DPO and PPO on a pretrained checkpoint.",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    cfg = config_from_args(argv)
    if cfg.out is None:
        cfg.out = "runs/l10"
    try:
        run(cfg)
    except FileNotFoundError as exc:  # no checkpoint or data there
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NotImplementedError as exc:  # a stub the path needs: say which, in one line
        print(str(exc).splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
