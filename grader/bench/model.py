"""``llmfs bench model``: training throughput of the reference GPT (L07) against Hugging Face's GPT-2.

One optimisation step = forward, cross-entropy loss, backward, AdamW update, on random token batches, for
both models at the same configuration, the same weights, the same torch threads. Warm-up steps are not
timed; each model is timed over several windows, interleaved with the other model's so that a noisy
machine slows both alike, and the best window counts. Figures are printed, never asserted.

    llmfs bench model                    # both configurations
    llmfs bench model --quick            # fewer windows (a rough figure in a few seconds)
    llmfs bench model --threads 1 --clock cpu   # steadier on a busy machine: process CPU time, one thread
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the course root, for `solutions`

import torch
from rich.console import Console
from rich.table import Table

from solutions.l07.gpt import GPT, GPTConfig


@dataclass(frozen=True)
class Setting:
    name: str
    config: GPTConfig
    batch: int


SETTINGS = (
    # nanoGPT's CPU recipe for Shakespeare characters (README "I only have a macbook").
    Setting("nanoGPT CPU (4L 4H 128d, T=64, B=12)",
            GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0), batch=12),
    # nanoGPT's GPU Shakespeare-char model, narrower batch so a CPU step stays around a second.
    Setting("larger (6L 6H 384d, T=256, B=8)",
            GPTConfig(vocab_size=65, block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.0), batch=8),
)


def build_models(config: GPTConfig, seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(reference GPT, transformers GPT2LMHeadModel with SDPA attention), holding the same weights."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    hf = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=config.vocab_size, n_positions=config.block_size, n_embd=config.n_embd,
            n_layer=config.n_layer, n_head=config.n_head, activation_function="gelu_new",
            resid_pdrop=config.dropout, embd_pdrop=config.dropout, attn_pdrop=config.dropout,
            bos_token_id=0, eos_token_id=0, attn_implementation="sdpa",
        )
    )
    ours = GPT(config)
    ours.load_hf_state_dict(hf.state_dict())
    return ours.train(), hf.train()


def make_step(model: torch.nn.Module, is_hf: bool):
    """One training step on (x, y): forward, loss, backward, AdamW (nanoGPT's settings)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)

    def step(x: torch.Tensor, y: torch.Tensor) -> float:
        if is_hf:
            # Hugging Face shifts the labels inside the model: labels = the input ids themselves.
            loss = model(input_ids=x, labels=x).loss
        else:
            _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def measure(
    setting: Setting, warmup: int, windows: int, steps: int, clock=time.perf_counter
) -> tuple[float, float, float, float]:
    """(reference tokens/s, transformers tokens/s, reference loss, transformers loss) at one setting."""
    config, batch = setting.config, setting.batch
    ours, hf = build_models(config)
    g = torch.Generator().manual_seed(1)
    data = torch.randint(0, config.vocab_size, (batch * 8, config.block_size + 1), generator=g)
    batches = [(data[i : i + batch, :-1], data[i : i + batch, 1:]) for i in range(0, len(data), batch)]
    steppers = {"ours": make_step(ours, is_hf=False), "hf": make_step(hf, is_hf=True)}
    best = {name: float("inf") for name in steppers}
    losses = {}
    for name, step in steppers.items():
        for i in range(warmup):
            step(*batches[i % len(batches)])
    for window in range(windows):
        for name, step in steppers.items():  # interleaved: load on the machine hits both alike
            start = clock()
            for i in range(steps):
                losses[name] = step(*batches[(window * steps + i) % len(batches)])
            best[name] = min(best[name], clock() - start)
    tokens = batch * config.block_size * steps
    return tokens / best["ours"], tokens / best["hf"], losses["ours"], losses["hf"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmfs bench model", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 windows of 2 steps (rough)")
    parser.add_argument("--windows", type=int, default=8, help="timing windows per model (best one counts)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time, or this process's CPU time (steadier when other jobs share the CPU; "
                        "use it with --threads 1, since idle threads spinning count as CPU time)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    windows = 2 if args.quick else args.windows

    console = Console(highlight=False, soft_wrap=True)  # a piped log keeps whole lines
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    table = Table(title=f"Training throughput, forward+backward+AdamW (torch {torch.__version__}, "
                  f"{torch.get_num_threads()} threads, {args.clock} clock, best of {windows} windows)",
                  title_justify="left")
    for column in ("configuration", "reference GPT (tok/s)", "transformers GPT-2, sdpa (tok/s)", "ratio"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for setting in SETTINGS:
        steps = 2 if args.quick else (10 if setting.config.n_embd <= 128 else 3)
        with console.status(f"measuring {setting.name} ..."):
            ours, hf, loss_ours, loss_hf = measure(setting, warmup=3, windows=windows, steps=steps, clock=clock)
        ratio = ours / hf
        colour = "green" if ratio >= 1.2 else ("yellow" if ratio >= 1.0 else "red")
        table.add_row(setting.name, f"{ours:,.0f}", f"{hf:,.0f}", f"[{colour}]{ratio:.2f}x[/]")
        console.print(f"{setting.name}: last loss, reference {loss_ours:.4f}, transformers {loss_hf:.4f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
