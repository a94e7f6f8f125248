"""``llmfs bench finetune``: L10's whole path on the reference, from the shipped checkpoint, measured and timed.

SFT -> reward model -> DPO and PPO (``solutions/l10/finetune.py``), on the CPU with 2 threads by default
(the course's laptop), each model measured on the held-out data of ``data/chat/``:

- the SFT model's chat-format rate (target >= 95%) and its accuracy per task;
- the reward model's accuracy on held-out pairs (target >= 90%);
- the rate of the preferred behaviour after SFT, DPO and PPO (target: DPO and PPO >= 90%), with the KL
  divergence of DPO and PPO to the SFT model;
- the wall time of each stage and of the whole path (target <= 15 minutes on 2 cores), with the machine's
  load average, since other processes slow it down.

    llmfs bench finetune                        # the full recipe (minutes)
    llmfs bench finetune --quick                # a smoke run: a few steps of each stage (numbers meaningless)
    llmfs bench finetune --out runs/l10 --threads 4

Figures are printed; ``--strict`` also returns 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the course root, for `solutions`

TARGETS = {"format": 0.95, "reward": 0.90, "preferred": 0.90, "minutes": 15.0}
QUICK = dict(sft_steps=4, reward_steps=4, dpo_steps=4, ppo_iterations=2, warmup_steps=2)


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="llmfs bench finetune", description="Time and measure L10's SFT -> RM -> DPO/PPO path.")
    parser.add_argument("--checkpoint", default=None, help="pretrained checkpoint (default: data/checkpoints/shakespeare)")
    parser.add_argument("--out", default=None, help="keep the fine-tuned checkpoints here (default: a temporary folder)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2: the course's laptop)")
    parser.add_argument("--quick", action="store_true", help="a few steps per stage: checks that the path runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    return parser.parse_args(argv)


def mark(ok: bool) -> str:
    return "[green]ok[/green]" if ok else "[red]MISSED[/red]"


def report(metrics: dict, load: tuple[float, float], threads: int) -> bool:
    """Print the outcome tables; True when every target is met."""
    from rich.console import Console
    from rich.table import Table

    from solutions.l10.make_data import KINDS, TASKS

    console = Console(soft_wrap=True)  # a piped log keeps whole lines
    tasks = Table(title="held-out replies (greedy): chat format, accuracy per task")
    for column in ["model", "format", *TASKS]:
        tasks.add_column(column, justify="right")
    kinds = Table(title="held-out preference prompts: preferred behaviour; KL in nats per reply")
    for column in ["model", "preferred", *KINDS, "KL to SFT"]:
        kinds.add_column(column, justify="right")
    for name in ("sft", "dpo", "ppo"):
        m = metrics[name]
        tasks.add_row(name.upper(), f"{m['format']:.1%}", *(f"{m['tasks'][t]:.0%}" for t in TASKS))
        kinds.add_row(name.upper(), f"{m['preferred']:.1%}", *(f"{m['kinds'][k]:.0%}" for k in KINDS),
                      f"{m['kl']:.2f}" if "kl" in m else "-")  # fmt: skip
    console.print(tasks)
    console.print(kinds)

    seconds = metrics["seconds"]
    checks = [
        ("SFT follows the chat format", f"{metrics['sft']['format']:.1%}", f">= {TARGETS['format']:.0%}",
         metrics["sft"]["format"] >= TARGETS["format"]),
        ("reward model: held-out pairs ranked right", f"{metrics['reward']['accuracy']:.1%}", f">= {TARGETS['reward']:.0%}",
         metrics["reward"]["accuracy"] >= TARGETS["reward"]),
        ("preferred behaviour after DPO", f"{metrics['sft']['preferred']:.1%} -> {metrics['dpo']['preferred']:.1%}",
         f">= {TARGETS['preferred']:.0%}", metrics["dpo"]["preferred"] >= TARGETS["preferred"]),
        ("preferred behaviour after PPO", f"{metrics['sft']['preferred']:.1%} -> {metrics['ppo']['preferred']:.1%}",
         f">= {TARGETS['preferred']:.0%}", metrics["ppo"]["preferred"] >= TARGETS["preferred"]),
        (f"the whole path on {threads} threads", f"{seconds['total'] / 60:.1f} min", f"<= {TARGETS['minutes']:.0f} min",
         seconds["total"] <= 60 * TARGETS["minutes"]),
    ]  # fmt: skip
    outcomes = Table(title="outcomes")
    for column in ("what", "measured", "target", ""):
        outcomes.add_column(column)
    for what, measured, target, ok in checks:
        outcomes.add_row(what, measured, target, mark(ok))
    console.print(outcomes)
    stages = ", ".join(f"{stage} {seconds[stage]:.0f} s" for stage in ("sft", "reward", "dpo", "ppo"))
    console.print(f"time by stage (training + its measurement): {stages}; total {seconds['total']:.0f} s")
    console.print(f"load average (1 min) before {load[0]:.2f}, after {load[1]:.2f}: other processes slow the run down")
    return all(ok for *_, ok in checks)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from solutions.l10.finetune import FinetuneConfig, run

    torch.set_num_threads(args.threads)
    cfg = FinetuneConfig()
    if args.checkpoint:
        cfg.checkpoint = args.checkpoint
    if args.quick:
        cfg = replace(cfg, **QUICK)
    if not Path(cfg.checkpoint).exists():
        print(f"no checkpoint at {cfg.checkpoint}: train one with L08 (see exercises/l08/README.md) or pass --checkpoint")
        return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="llmfs-finetune-") as scratch:
        cfg.out = args.out or scratch
        print(f"L10 path from {cfg.checkpoint} on {args.threads} threads{' (quick)' if args.quick else ''}; checkpoints in {cfg.out}")
        metrics = run(cfg, log=lambda line: print(line, flush=True))
    met = report(metrics, (load_before, os.getloadavg()[0]), args.threads)
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    raise SystemExit(main())
