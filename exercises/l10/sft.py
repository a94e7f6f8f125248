"""Lesson 10, part 2: supervised fine-tuning (SFT) on conversations.

SFT is pretraining's next-token loss on rendered conversations, with one change: only the assistant's tokens
are targets. The user's words are context the model reads, not text it should learn to write, so their
targets are -100 (ignored by cross-entropy) and their gradient is exactly zero:

    ids      <|user|>  What  is  3  plus  4  ?  <|end|>  <|assistant|>  3   plus  4   is  7   .   <|end|>
    x        ids[:-1]
    y        -100 ...                                           ...    3   plus  4   is  7   .   <|end|>
             (y[t] = ids[t + 1] where ids[t + 1] is an assistant token, else -100)

Conversations have different lengths; a batch pads them on the RIGHT (x with ``<|pad|>``, y with -100).
Right padding needs no attention mask: attention is causal, so a real token never sees the padding after it,
and padded positions have no target. Training reuses L08's optimizer, schedule and clipping
(``finetune.train_sft``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_INDEX = -100  # cross-entropy's ignore_index: no loss, no gradient


def sft_example(ids: list[int], assistant_mask: list[bool], block_size: int) -> tuple[list[int], list[int]]:
    """One rendered conversation -> (x, y) for next-token training with the loss on assistant tokens only.

    x = ids[:-1]; y[t] = ids[t + 1] if assistant_mask[t + 1] else -100. Both are cut to the first
    ``block_size`` positions (a longer conversation loses its end). ValueError if ids and mask differ in
    length or there are fewer than 2 ids.

    >>> sft_example([10, 11, 12, 13], [False, False, True, True], block_size=8)
    ([10, 11, 12], [-100, 12, 13])
    """
    if len(ids) != len(assistant_mask):
        raise ValueError(f"ids ({len(ids)}) and assistant_mask ({len(assistant_mask)}) must have the same length")
    if len(ids) < 2:
        raise ValueError(f"a training example needs at least 2 tokens, got {len(ids)}")
    raise NotImplementedError('L10 sft_example() is not implemented yet: write it in exercises/l10/sft.py (stuck? run: llmfs hint L10)')


def collate(examples: list[tuple[list[int], list[int]]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (x, y) examples of different lengths into int64 tensors (B, T), T = the longest x.

    Right padding: x is filled with ``pad_id``, y with -100, after each example's end.

    >>> collate([([1, 2, 3], [-100, 3, 4]), ([5], [6])], pad_id=0)
    (tensor([[1, 2, 3],
            [5, 0, 0]]), tensor([[-100,    3,    4],
            [   6, -100, -100]]))
    """
    if not examples:
        raise ValueError("collate needs at least one example")
    raise NotImplementedError('L10 collate() is not implemented yet: write it in exercises/l10/sft.py (stuck? run: llmfs hint L10)')


def sft_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the model's next-token predictions over the targets that are not -100.

    x, y: int64 (B, T) from ``collate``. Each assistant token counts once, however the batch is padded:
    a batch of one long and one short reply weighs every token alike. ValueError if no target is left.
    """
    if not (y != IGNORE_INDEX).any():
        raise ValueError("every target is -100: the batch has no assistant token to learn from")
    raise NotImplementedError('L10 sft_loss() is not implemented yet: write it in exercises/l10/sft.py (stuck? run: llmfs hint L10)')
