"""A chat in the terminal with a checkpoint: the reply streams token by token and the conversation is kept.

    python -m exercises.l10.chat runs/l10/ppo                       # interactive (your code)
    python -m exercises.l10.chat runs/l10/dpo --prompt "Greet Romeo."   # one answer, then exit
    llmfs chat runs/l10/sft --temperature 0.8 --top-k 50

Each turn renders the whole conversation with the chat template (part 1) and the generation prompt, and
L09's ``stream`` samples the reply until the model ends its turn with ``<|end|>``. When the conversation
outgrows the model's context (``block_size``), the oldest messages are dropped. In the interactive chat,
``/reset`` starts a new conversation and ``/quit`` (or Ctrl-D) leaves.

Any checkpoint of L08's format works: a fine-tuned one from ``finetune`` (its tokenizer knows the chat
tokens), or a pretrained one (the chat tokens are then added with fresh embeddings: it will not chat well,
which is the point of this lesson).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import torch

from ..l01.bpe import RegexTokenizer
from ..l07.gpt import GPT
from ..l08.train import load_model
from ..l09.generate import stream
from ..l09.sample import sampling_problem
from .template import END, add_chat_tokens, render_chat, resize_token_embeddings


def load_chat(path: str) -> tuple[GPT, RegexTokenizer, bool]:
    """(model, tokenizer, fine_tuned): the checkpoint, with the chat tokens added if it lacks them."""
    model, tokenizer = load_model(path)
    fine_tuned = END in tokenizer.special_tokens
    ids = add_chat_tokens(tokenizer)
    if model.config.vocab_size <= max(ids.values()):
        resize_token_embeddings(model, max(tokenizer.vocab) + 1)
    return model.eval(), tokenizer, fine_tuned


def prompt_ids(model: GPT, tokenizer: RegexTokenizer, messages: list[dict], max_new_tokens: int) -> list[int]:
    """The conversation rendered with the generation prompt, oldest messages dropped until the reply fits."""
    budget = model.config.block_size - max_new_tokens
    for start in range(len(messages)):
        ids, _ = render_chat(tokenizer, messages[start:], add_generation_prompt=True)
        if len(ids) <= budget:
            return ids
    return ids[-budget:]  # one message longer than the context: keep its end


def reply_stream(model: GPT, tokenizer: RegexTokenizer, messages: list[dict], args: argparse.Namespace,
                 generator: torch.Generator) -> Iterator[str]:  # fmt: skip
    """The assistant's reply as pieces of text, yielded as the tokens come (whole characters only)."""
    end = tokenizer.special_tokens[END]
    idx = torch.tensor([prompt_ids(model, tokenizer, messages, args.max_new_tokens)])
    reply: list[int] = []
    shown = ""
    for token in stream(
        model, idx, args.max_new_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        repetition_penalty=args.repetition_penalty, stop_tokens=(end,), generator=generator,
    ):  # fmt: skip
        if token.item() == end:
            break
        reply.append(token.item())
        text = tokenizer.decode(reply)
        if not text.endswith("\ufffd"):  # a character cut in half: wait for its other bytes
            yield text[len(shown) :]
            shown = text
    text = tokenizer.decode(reply)
    if text != shown:
        yield text[len(shown) :]


def answer(model, tokenizer, messages, args, generator, out=None) -> str:
    """Stream one reply to ``out`` (default: the current ``sys.stdout``) and return its text."""
    out = out or sys.stdout
    pieces = []
    for piece in reply_stream(model, tokenizer, messages, args, generator):
        pieces.append(piece)
        out.write(piece)
        out.flush()
    out.write("\n")
    return "".join(pieces)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llmfs chat", description="Chat with a checkpoint in the terminal.")
    parser.add_argument("checkpoint", help="a checkpoint file or folder (e.g. runs/l10/ppo)")
    parser.add_argument("--prompt", help="answer this one message and exit (no interaction)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--top-k", type=int, default=None, help="sample among the k most likely tokens")
    parser.add_argument("--top-p", type=float, default=None, help="sample from the smallest set with probability >= p")
    parser.add_argument("--repetition-penalty", type=float, default=1.0, help="> 1 makes tokens already seen less likely")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="the longest reply, in tokens (default 64)")
    parser.add_argument("--seed", type=int, default=1337, help="the sampling seed: the same seed, the same replies")
    args = parser.parse_args(argv)
    if args.max_new_tokens < 1:
        parser.error(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    if problem := sampling_problem(args):
        parser.error(problem)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model, tokenizer, fine_tuned = load_chat(args.checkpoint)
    if args.max_new_tokens >= model.config.block_size:
        args.max_new_tokens = model.config.block_size // 2
    generator = torch.Generator().manual_seed(args.seed)
    if not fine_tuned:
        print("(this checkpoint was not fine-tuned for chat: its replies will not know when to end)", file=sys.stderr)
    if args.prompt is not None:
        answer(model, tokenizer, [{"role": "user", "content": args.prompt}], args, generator)
        return 0
    print("Chat with the model. /reset starts over, /quit leaves.", file=sys.stderr)
    messages: list[dict] = []
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if text.strip() in ("/quit", "/exit"):
            return 0
        if text.strip() == "/reset":
            messages = []
            continue
        if not text.strip():
            continue
        messages.append({"role": "user", "content": text})
        sys.stdout.write("bot> ")
        messages.append({"role": "assistant", "content": answer(model, tokenizer, messages, args, generator)})


if __name__ == "__main__":
    raise SystemExit(main())
