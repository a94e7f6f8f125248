"""Lesson 10, part 1: the chat format.

A pretrained model continues text. A chat model continues a *conversation*: the text is a list of messages,
each with a role, and the model must know where a message starts, whose it is, and where it ends. Special
tokens say so, one id each, never produced by encoding ordinary text:

    <|user|>What is 3 plus 4?<|end|><|assistant|>Marry, that is 7.<|end|>
    └ role ┘└─── content ───┘└ end ┘└── role ───┘└─── content ───┘└ end ┘

To ask the model for a reply, render the conversation so far and add the generation prompt ``<|assistant|>``;
the model writes the content and ends its turn with ``<|end|>`` (the stop token of L09's ``generate``).
``<|pad|>`` fills batches of unequal length (it is never attended to: padding goes on the right, after the
last real token, and the attention is causal).

The new tokens need ids and embedding rows: ``add_chat_tokens`` registers them on the tokenizer after every
id in use, and ``resize_token_embeddings`` grows the model's (tied) embedding matrix to match.
"""
from __future__ import annotations

import torch
from torch import nn

from ..l01.bpe import RegexTokenizer

USER, ASSISTANT, END, PAD = "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"
CHAT_TOKENS = (USER, ASSISTANT, END, PAD)
ROLE_TOKENS = {"user": USER, "assistant": ASSISTANT}


def add_chat_tokens(tokenizer: RegexTokenizer) -> dict[str, int]:
    """Register ``CHAT_TOKENS`` as special tokens on the first free ids; return ``{token: id}`` for all four.

    Free ids start after the largest id the tokenizer uses (bytes, merges and special tokens such as
    ``<|endoftext|>``). Tokens already registered keep their ids, so calling it twice changes nothing.

    >>> tokenizer = RegexTokenizer()  # 256 byte tokens, ids 0..255
    >>> add_chat_tokens(tokenizer)
    {'<|user|>': 256, '<|assistant|>': 257, '<|end|>': 258, '<|pad|>': 259}
    """
    raise NotImplementedError('L10 add_chat_tokens() is not implemented yet: write it in exercises/l10/template.py (stuck? run: llmfs hint L10)')


def resize_token_embeddings(model: nn.Module, vocab_size: int) -> None:
    """Grow an L07 GPT's token embedding (and the tied ``lm_head``) to ``vocab_size`` rows, in place.

    Old rows are kept; each new row starts as the mean of the old rows, so a new token's logit starts near
    an average logit instead of at a random one. ``lm_head.weight`` stays the very same Parameter as
    ``transformer.wte.weight`` (weight tying), and ``model.config.vocab_size``, ``wte.vocab_size`` and
    ``lm_head.out_features`` follow. ValueError if ``vocab_size`` is smaller than the current size.
    Build the optimizer after resizing: the embedding is a new Parameter.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8))
    >>> resize_token_embeddings(model, 12)
    >>> model.transformer.wte.weight.shape, model.lm_head.weight is model.transformer.wte.weight
    (torch.Size([12, 8]), True)
    """
    old = model.transformer.wte.weight
    if vocab_size < old.shape[0]:
        raise ValueError(f"vocab_size {vocab_size} is smaller than the model's {old.shape[0]}: cannot shrink")
    raise NotImplementedError('L10 resize_token_embeddings() is not implemented yet: write it in exercises/l10/template.py (stuck? run: llmfs hint L10)')


def render_chat(
    tokenizer: RegexTokenizer, messages: list[dict], add_generation_prompt: bool = False
) -> tuple[list[int], list[bool]]:
    """A conversation -> (token ids, assistant mask): the mask is True on the tokens the assistant wrote.

    Each message ``{"role": "user" | "assistant", "content": str}`` becomes its role token, the content's
    ids, and ``<|end|>``. The content is ordinary text: a user who types "<|end|>" gets the characters, not
    the token (``encode_ordinary``). The mask is True on an assistant message's content AND its ``<|end|>``
    (the model must learn to end its turn), False on role tokens and on user messages. With
    ``add_generation_prompt`` the ids end with ``<|assistant|>`` (mask False): the model writes next.
    ValueError for an unknown role; the chat tokens must be registered (``add_chat_tokens``).

    >>> tokenizer = RegexTokenizer(); _ = add_chat_tokens(tokenizer)
    >>> ids, mask = render_chat(tokenizer, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    >>> ids  # <|user|> h i <|end|> <|assistant|> y o <|end|>
    [256, 104, 105, 258, 257, 121, 111, 258]
    >>> mask
    [False, False, False, False, False, True, True, True]
    """
    raise NotImplementedError('L10 render_chat() is not implemented yet: write it in exercises/l10/template.py (stuck? run: llmfs hint L10)')


def parse_chat(tokenizer: RegexTokenizer, ids: list[int]) -> list[dict]:
    """Token ids -> messages, the inverse of ``render_chat``: ``parse_chat(t, render_chat(t, m)[0]) == m``.

    A role token opens a message, ``<|end|>`` closes it; ``<|pad|>`` ends the conversation (the rest is
    padding). A last message that is still open (a reply cut off by max_new_tokens, or the generation
    prompt alone) is returned with the content so far. ValueError for a role token inside an open message,
    an ``<|end|>`` or a content token outside any message.

    >>> tokenizer = RegexTokenizer(); _ = add_chat_tokens(tokenizer)
    >>> parse_chat(tokenizer, [256, 104, 105, 258, 257, 121])
    [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'y'}]
    """
    raise NotImplementedError('L10 parse_chat() is not implemented yet: write it in exercises/l10/template.py (stuck? run: llmfs hint L10)')
