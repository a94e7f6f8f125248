"""``llmfs bench train``: the course's training recipe (L08) from scratch, bits per byte against wall time.

Runs ``solutions.l08.train.train`` with the recipe's defaults in a fresh temporary folder, so everything
is timed: training the BPE tokenizer on the training split, encoding the text (no cache from an earlier
run), training the model and every evaluation on the whole validation split. Prints a table at each
evaluation (elapsed seconds, step, mean training loss since the last evaluation, validation bits per
byte) and compares the result with nanoGPT's character-level CPU recipe measured on the course machine.
Figures are printed, never asserted; the machine's load average is printed with them.

    llmfs bench train                    # the shipped recipe, 2 threads, CPU
    llmfs bench train --threads 4 --max-steps 400
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[2]
if str(COURSE_ROOT) not in sys.path:
    sys.path.insert(0, str(COURSE_ROOT))  # the course root, for `solutions`

# nanoGPT's shakespeare_char recipe for CPUs (README: block 64, batch 12, 4 layers, 4 heads, 128 wide,
# no dropout), measured on the course machine (2 cores): validation bits per byte after a wall time.
NANOGPT_CHAR = ((104, 2.72), (480, 2.32))
TARGET_BPB, TARGET_SECONDS = 2.30, 300


def main(argv: list[str] | None = None) -> int:
    from solutions.l08.train import TrainConfig, train  # first: it sets OMP_WAIT_POLICY before torch loads

    import torch
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(prog="llmfs bench train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the recipe's figure is for 2)")
    parser.add_argument("--device", default="cpu", help="cpu (the recipe's figure), cuda, mps or auto")
    parser.add_argument("--max-steps", type=int, default=None, help="override the recipe's number of steps")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only the table")
    args = parser.parse_args(argv)

    console = Console(highlight=False, soft_wrap=True)  # a piped log keeps whole lines
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="llmfs-bench-train-") as scratch:
        config = TrainConfig(
            out_dir=str(Path(scratch) / "run"), cache_dir=str(Path(scratch) / "cache"), threads=args.threads,
            device=args.device, plot=False, verbose=not args.quiet,
        )  # fmt: skip
        if args.max_steps is not None:
            config = replace(config, max_steps=args.max_steps, warmup_steps=min(config.warmup_steps, args.max_steps))
        console.print(
            f"recipe: vocab {config.vocab_size}, {config.n_layer} layers x {config.n_embd} wide, {config.n_head} heads, "
            f"block {config.block_size}, batch {config.batch_size} x {config.grad_accum_steps}, {config.max_steps} steps, "
            f"lr {config.max_lr:g} -> {config.min_lr:g}; {args.threads} threads on {args.device}, torch {torch.__version__}, "
            f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"
        )
        history = train(config)
    load_after = os.getloadavg()

    table = Table(title="Tiny Shakespeare from scratch: losses in nats per token, the whole validation split", title_justify="left")
    for column in ("elapsed", "step", "train loss", "val loss", "val bits/byte"):
        table.add_column(column, justify="right")
    for record in history["evals"]:
        table.add_row(
            f"{record['elapsed']:.1f} s", str(record["step"]), f"{record['train_loss']:.4f}",
            f"{record['val_loss']:.4f}", f"{record['val_bpb']:.4f}",
        )  # fmt: skip
    console.print(table)
    final = history["evals"][-1]
    verdict = "meets" if final["val_bpb"] <= TARGET_BPB and history["elapsed"] <= TARGET_SECONDS else "misses"
    console.print(
        f"this recipe: {final['val_bpb']:.3f} bits/byte after {history['elapsed']:.0f} s (tokenizer training, "
        f"encoding, training and evaluation included); target <= {TARGET_BPB} within {TARGET_SECONDS} s: {verdict}"
    )
    console.print(
        "nanoGPT's character-level CPU recipe on the course machine: "
        + ", ".join(f"{bpb:.2f} bits/byte after {seconds // 60} min {seconds % 60} s" for seconds, bpb in NANOGPT_CHAR)
    )
    console.print(
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} cores: "
        "other work on the machine slows training, compare figures measured under a low load"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
