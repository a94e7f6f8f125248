"""``llmfs bench generate``: greedy decoding speed, with and without the KV cache, against ``transformers``.

On the shipped checkpoint (``data/checkpoints/shakespeare/model.pt``, read with L08's ``load_model``; a
randomly initialised model of L08's default configuration when it is not there yet), three ways to decode
greedily from the same prompt up to the model's full context (at most 256 new tokens):

    ours, KV cache       L09 ``generate(model, idx, n, temperature=0)``          (only new positions)
    ours, recomputation  the same with ``use_cache=False``                        (the whole context per token)
    transformers         ``GPT2LMHeadModel.generate(do_sample=False, use_cache=True)`` on the same weights
                         (exported with ``hf_state_dict``)

The three must produce the same tokens (checked). Each is timed over several rounds, interleaved so that
other load on the machine hits all three alike; the best round counts, and the load average is printed.
Figures are printed, never asserted. Goals: cache >= 4x recomputation, ours >= 1.0x transformers.

    llmfs bench generate                       # the reference (solutions/)
    llmfs bench generate --code exercises      # your own L09 code
    llmfs bench generate --rounds 3 --threads 1
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[2]
if str(COURSE_ROOT) not in sys.path:
    sys.path.insert(0, str(COURSE_ROOT))  # the course root, for `solutions` and `exercises`

import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

CHECKPOINT = COURSE_ROOT / "data" / "checkpoints" / "shakespeare" / "model.pt"
MAX_NEW_TOKENS = 256


def load(code: str) -> tuple[torch.nn.Module, list[int], str]:
    """(model in eval mode, prompt ids, where the weights come from)."""
    if CHECKPOINT.is_file():
        model, tokenizer = importlib.import_module(f"{code}.l08.train").load_model(CHECKPOINT)
        return model, tokenizer.encode("ROMEO:\n"), f"shipped checkpoint {CHECKPOINT.relative_to(COURSE_ROOT)}"
    gpt = importlib.import_module(f"{code}.l07.gpt")
    train = importlib.import_module(f"{code}.l08.train")
    defaults = train.TrainConfig()
    config = gpt.GPTConfig(
        vocab_size=defaults.vocab_size, block_size=defaults.block_size, n_layer=defaults.n_layer,
        n_head=defaults.n_head, n_embd=defaults.n_embd, dropout=0.0,
    )  # fmt: skip
    torch.manual_seed(0)
    model = gpt.GPT(config).eval()
    prompt = torch.randint(0, config.vocab_size, (3,), generator=torch.Generator().manual_seed(1)).tolist()
    where = CHECKPOINT.relative_to(COURSE_ROOT)
    origin = f"NO CHECKPOINT at {where}: a randomly initialised model of L08's default configuration"
    return model, prompt, origin


def hf_twin(model: torch.nn.Module) -> torch.nn.Module:
    """A GPT2LMHeadModel of the same configuration holding the same weights (no EOS: it never stops early)."""
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    c = model.config
    hf = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head,
            activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
            bos_token_id=None, eos_token_id=None, pad_token_id=0, attn_implementation="sdpa",
        )
    )
    hf.load_state_dict(model.hf_state_dict())
    return hf.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmfs bench generate", description=__doc__.splitlines()[0])
    default_code = "solutions" if (COURSE_ROOT / "solutions" / "l09").is_dir() else "exercises"
    parser.add_argument("--code", choices=("solutions", "exercises"), default=default_code,
                        help=f"whose L09 to time (default: {default_code})")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per method (the best counts)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    console = Console(highlight=False, soft_wrap=True)  # a piped log keeps whole lines
    generate = importlib.import_module(f"{args.code}.l09.generate").generate
    try:
        return measure(generate, args, console)
    except NotImplementedError as exc:  # the learner's stubs
        console.print(f"[red]cannot measure {args.code}/:[/] {exc}")
        return 1


def measure(generate, args: argparse.Namespace, console: Console) -> int:
    model, prompt, origin = load(args.code)
    hf = hf_twin(model)
    config = model.config
    idx = torch.tensor([prompt])
    n_new = min(MAX_NEW_TOKENS, config.block_size - idx.shape[1])
    console.print(f"model: {origin}")
    console.print(f"  {config.n_layer} layers, {config.n_head} heads, {config.n_embd} wide, vocab {config.vocab_size}, "
                  f"block_size {config.block_size}; prompt {idx.shape[1]} tokens + {n_new} new = the full context"
                  + (f" ({MAX_NEW_TOKENS} new tokens asked; the context holds {config.block_size})"
                     if n_new < MAX_NEW_TOKENS else ""))

    methods = {
        "ours, KV cache": lambda: generate(model, idx, n_new, temperature=0, use_cache=True),
        "ours, recomputation": lambda: generate(model, idx, n_new, temperature=0, use_cache=False),
        "transformers generate": lambda: hf.generate(
            idx, attention_mask=torch.ones_like(idx), max_new_tokens=n_new, min_new_tokens=n_new,
            do_sample=False, use_cache=True,
        ),
    }
    outputs = {name: run() for name, run in methods.items()}  # warm-up, and the tokens to compare
    reference = outputs["ours, KV cache"]
    agree = {name: out.shape == reference.shape and torch.equal(out, reference) for name, out in outputs.items()}

    load_before = os.getloadavg()
    best = {name: float("inf") for name in methods}
    with console.status(f"timing {args.rounds} rounds of {n_new} tokens each ..."):
        for _ in range(args.rounds):
            for name, run in methods.items():  # interleaved: a busy machine slows all three alike
                start = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - start)
    load_after = os.getloadavg()

    rate = {name: n_new / seconds for name, seconds in best.items()}
    table = Table(title=f"Greedy decoding, {n_new} new tokens, batch 1 ({args.code} L09, torch {torch.__version__}, "
                  f"{torch.get_num_threads()} threads, best of {args.rounds} rounds)", title_justify="left")
    for column in ("method", "tokens/s", "ms/token", "same tokens"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name in methods:
        table.add_row(name, f"{rate[name]:,.0f}", f"{1000 / rate[name]:.2f}", "yes" if agree[name] else "[red]NO[/]")
    console.print(table)

    def verdict(ratio: float, goal: float) -> str:
        return f"[{'green' if ratio >= goal else 'red'}]{ratio:.2f}x[/] (goal >= {goal:g}x)"

    cached = rate["ours, KV cache"]
    console.print(f"KV cache vs recomputation: {verdict(cached / rate['ours, recomputation'], 4.0)}")
    console.print(f"ours (KV cache) vs transformers: {verdict(cached / rate['transformers generate'], 1.0)}")
    console.print(f"load average (1, 5, 15 min): before {', '.join(f'{x:.2f}' for x in load_before)}; "
                  f"after {', '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} cores")
    return 0 if all(agree.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
