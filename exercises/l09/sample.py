"""The ``sample`` command: load a checkpoint and print a continuation of a prompt, token by token.

    python -m exercises.l09.sample --prompt "ROMEO:"                          # your code, the shipped model
    python -m solutions.l09.sample --prompt "ROMEO:"                          # the reference
    python -m exercises.l09.sample --prompt "ROMEO:" --temperature 0.8 --top-k 50 --top-p 0.95 --seed 1
    python -m exercises.l09.sample --prompt "ROMEO:" --temperature 0          # greedy
    python -m exercises.l09.sample --prompt "ROMEO:" --beams 4 --length-penalty 1.0
    python -m exercises.l09.sample --checkpoint runs/shakespeare --no-cache   # your own run, no KV cache

The checkpoint is read with L08's ``load_model`` (a ``model.pt``/``ckpt.pt`` or the folder holding it).
Sampled text is streamed: each token is printed the moment it is generated (its bytes go through an
incremental UTF-8 decoder, since one character may span two tokens). Beam search prints the best sequence
at the end. The speed goes to stderr.
"""
from __future__ import annotations

import argparse
import codecs
import math
import sys
import time

import torch

from .generate import beam_search, stream

DEFAULT_CHECKPOINT = "data/checkpoints/shakespeare"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m exercises.l09.sample", description=__doc__.splitlines()[0])
    option = parser.add_argument
    default = " (default: %(default)s)"
    option("--checkpoint", default=DEFAULT_CHECKPOINT, help="model.pt / ckpt.pt, or its folder" + default)
    option("--prompt", default="\n", help="the text to continue (default: a line break)")
    option("--max-new-tokens", type=int, default=200, help="stop after this many tokens" + default)
    option("--temperature", type=float, default=1.0, help="divides the logits; 0 = greedy" + default)
    option("--top-k", type=int, default=None, help="sample among the k most likely tokens only" + default)
    option("--top-p", type=float, default=None,
           help="sample among the fewest most likely tokens whose probabilities reach p" + default)
    option("--repetition-penalty", type=float, default=1.0,
           help="> 1 makes tokens already in the text less likely" + default)
    option("--stop-token", type=int, action="append", default=[],
           help="a token id that ends the text (repeat the flag for several)")
    option("--beams", type=int, default=1, help="> 1: beam search (deterministic, not streamed)" + default)
    option("--length-penalty", type=float, default=1.0, help="beam search: score / length ** this" + default)
    option("--seed", type=int, default=1337, help="the same seed gives the same text" + default)
    option("--no-cache", action="store_true", help="recompute the whole context every step")
    return parser.parse_args(argv)


def sampling_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the sampling options (``--temperature``, ``--top-k``, ``--top-p``,
    ``--repetition-penalty``), in one line, or None: the ranges L09's functions accept, checked before any
    model loads. L10's chat takes the same options and checks them here too."""
    checks = [
        (math.isfinite(args.temperature) and args.temperature >= 0, f"--temperature must be 0 (greedy) or more, got {args.temperature}"),
        (args.top_k is None or args.top_k >= 1, f"--top-k must be 1 or more, got {args.top_k}"),
        (args.top_p is None or 0 <= args.top_p <= 1, f"--top-p must be between 0 and 1, got {args.top_p}"),
        (math.isfinite(args.repetition_penalty) and args.repetition_penalty > 0, f"--repetition-penalty must be above 0, got {args.repetition_penalty}"),
    ]
    return next((message for ok, message in checks if not ok), None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = sampling_problem(args)
    if args.max_new_tokens < 0 or args.beams < 1:
        problem = f"--max-new-tokens must be 0 or more and --beams 1 or more, got {args.max_new_tokens} and {args.beams}"
    if problem:  # one line, before any model loads
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        return sample(args)
    except NotImplementedError as exc:  # a stub sampling needs: say which, in one line
        print(str(exc).splitlines()[0], file=sys.stderr)
        return 1


def sample(args: argparse.Namespace) -> int:
    """Load the checkpoint and stream (or beam-search) the continuation of the prompt to stdout."""
    from ..l08.train import load_model  # imported here: `--help` works before L08 is written

    try:
        model, tokenizer = load_model(args.checkpoint)
    except (FileNotFoundError, ValueError) as exc:  # no checkpoint there, or a corrupt one
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prompt_ids = tokenizer.encode(args.prompt)
    if not prompt_ids:
        raise SystemExit("the prompt encodes to no tokens: give at least one character")
    idx = torch.tensor([prompt_ids], dtype=torch.long)
    out = sys.stdout
    out.write(args.prompt)
    out.flush()
    start = time.perf_counter()
    if args.beams > 1:
        room = model.config.block_size - idx.shape[1]
        best = beam_search(
            model, idx, num_beams=args.beams, max_new_tokens=min(args.max_new_tokens, room),
            length_penalty=args.length_penalty, eos_token_id=args.stop_token[0] if args.stop_token else None,
        )  # fmt: skip
        new_ids = best[0, idx.shape[1] :].tolist()
        out.write(tokenizer.decode(new_ids))
    else:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        steps = stream(
            model, idx, args.max_new_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
            repetition_penalty=args.repetition_penalty, stop_tokens=args.stop_token,
            generator=torch.Generator().manual_seed(args.seed), use_cache=not args.no_cache,
        )  # fmt: skip
        new_ids = []
        for token in steps:
            new_ids.append(int(token[0]))
            out.write(decoder.decode(tokenizer.vocab[new_ids[-1]]))
            out.flush()
        out.write(decoder.decode(b"", final=True))
    out.write("\n")
    out.flush()
    seconds = time.perf_counter() - start
    speed = len(new_ids) / max(seconds, 1e-9)
    print(f"[{len(new_ids)} tokens in {seconds:.2f} s, {speed:.1f} tokens/s]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
