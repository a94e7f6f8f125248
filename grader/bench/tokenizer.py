"""``llmfs bench tokenizer``: the L01 reference BPE against Hugging Face ``tokenizers`` and tiktoken.

Measured in one run, best of a few repeats each, on ``data/tinyshakespeare.txt``:

- training to 1,024 and 4,096 tokens: ``RegexTokenizer.train`` (pure Python, incremental pair counts) vs
  Hugging Face's ``BpeTrainer`` (Rust). Goal: at most 3x at 4,096.
- encoding with GPT-2's merges: ``RegexTokenizer.load("data/gpt2").encode_ordinary`` vs tiktoken (Rust),
  built offline from the same files. Goal: at most 10x. The ids must be identical.

Goals are printed, not asserted; the exit status is 1 only if the ids differ.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[2]
if str(COURSE_ROOT) not in sys.path:
    sys.path.insert(0, str(COURSE_ROOT))

from solutions.l01.bpe import GPT2_SPLIT_PATTERN, RegexTokenizer, bytes_to_unicode  # noqa: E402

TRAIN_GOAL = 3.0  # reference / Hugging Face at the largest vocab size
ENCODE_GOAL = 10.0  # reference / tiktoken


def best_time(run: Callable[[], object], repeats: int, setup: Callable[[], None] | None = None) -> float:
    """The fastest of ``repeats`` runs, in seconds (``setup`` runs untimed before each)."""
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def train_reference(text: str, vocab_size: int) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train(text, vocab_size)
    return tokenizer


def train_hugging_face(text: str, vocab_size: int):
    """Hugging Face's BPE trainer set up to do the same job as ``RegexTokenizer.train``:

    - ByteLevel pre-tokenizer with use_regex=True: GPT-2's split pattern (the original spelling, which
      splits exactly like tiktoken's), then each byte written as its GPT-2 stand-in; add_prefix_space=False
      so no space is added in front of the text;
    - initial_alphabet = all 256 byte stand-ins, so that vocab_size counts 256 bytes + merges, as ours does;
    - no special tokens, min_frequency=0 (every pair with a count >= 1 may be merged, as ours does);
    - the whole text as ONE sequence, so the pre-tokens and their counts are exactly ours (feeding lines
      would cut whitespace runs at each newline);
    - single-threaded (TOKENIZERS_PARALLELISM=false, set in main), like the reference; on this text Rust's
      thread pool is slower, not faster, anyway.
    The tie-break between equal counts differs (HF orders pairs by its own ids), so the merges can part
    ways after the first tie; the work is the same.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=0,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([text], trainer=trainer)
    return tokenizer


def gpt2_tiktoken(gpt2_dir: Path):
    """tiktoken's GPT-2 built offline from vocab.json: each token's bytes, ranked by its id."""
    import tiktoken

    byte_of = {stand_in: b for b, stand_in in bytes_to_unicode().items()}
    vocab = json.loads((gpt2_dir / "vocab.json").read_text(encoding="utf-8"))
    ranks = {bytes(byte_of[ch] for ch in token): idx for token, idx in vocab.items() if token != "<|endoftext|>"}
    return tiktoken.Encoding(
        name="gpt2_offline", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmfs bench tokenizer", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="take the best of this many runs (default 3)")
    parser.add_argument("--vocab-sizes", type=int, nargs="+", default=[1024, 4096], help="training targets")
    parser.add_argument("--data", type=Path, default=COURSE_ROOT / "data", help="the course's data folder")
    args = parser.parse_args(argv)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"

    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)  # a piped log keeps whole lines
    text = (args.data / "tinyshakespeare.txt").read_text(encoding="utf-8")
    table = Table(title=f"L01 BPE on Tiny Shakespeare ({len(text):,} chars), best of {args.repeats}", title_justify="left")
    for column in ("task", "reference", "independent", "", "ratio", "goal"):
        table.add_column(column, justify="left" if column in ("task", "independent") else "right", no_wrap=True)

    def add_row(task: str, ours: float, theirs: float, other: str, goal: float | None) -> None:
        ratio = ours / theirs
        verdict = "" if goal is None else (f"[green]<={goal:g}x ok[/]" if ratio <= goal else f"[red]<={goal:g}x missed[/]")
        table.add_row(task, f"{ours:.3f} s", other, f"{theirs:.3f} s", f"{ratio:.2f}x", verdict)

    with console.status("training..."):
        for vocab_size in args.vocab_sizes:
            ours = best_time(lambda: train_reference(text, vocab_size), args.repeats)
            theirs = best_time(lambda: train_hugging_face(text, vocab_size), args.repeats)
            goal = TRAIN_GOAL if vocab_size == max(args.vocab_sizes) else None
            add_row(f"train, vocab {vocab_size:,}", ours, theirs, "HF tokenizers", goal)

    with console.status("encoding..."):
        gpt2_dir = args.data / "gpt2"
        oracle = gpt2_tiktoken(gpt2_dir)
        fresh: list[RegexTokenizer] = []  # a freshly loaded tokenizer per run: no cache left from the last run
        ours = best_time(
            lambda: fresh[-1].encode_ordinary(text), args.repeats, setup=lambda: fresh.append(RegexTokenizer.load(gpt2_dir))
        )
        theirs = best_time(lambda: oracle.encode_ordinary(text), args.repeats)
        add_row("encode, GPT-2", ours, theirs, "tiktoken", ENCODE_GOAL)
        ids, want = fresh[-1].encode_ordinary(text), oracle.encode_ordinary(text)

    console.print(table)
    if ids != want:
        console.print(f"[red]the reference's GPT-2 ids differ from tiktoken's[/] ({len(ids):,} vs {len(want):,} ids)")
        return 1
    console.print(f"GPT-2 ids identical to tiktoken's: {len(ids):,} ids")
    return 0


if __name__ == "__main__":
    sys.exit(main())
