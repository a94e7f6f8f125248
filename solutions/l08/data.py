"""Lesson 8, part 1: the training data.

A language model trains on one long stream of token ids. The text is encoded once with your L01
tokenizer and cached on disk as a ``.npy`` file; training then cuts random windows out of the stream
(nanoGPT's ``prepare.py`` and ``get_batch``):

    stream   = [ 5012  17  263  9  1402  88  ... ]          train = first 90%, val = last 10%
    offset i ~ uniform over 0 .. len(data) - block_size - 1
    x        = stream[i     : i + block_size]                 the context       (batch, block)
    y        = stream[i + 1 : i + block_size + 1]             the next tokens   (batch, block)

so y[b, t] is the token that follows x[b, :t+1], for every position t of every row at once.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch


def tokenizer_fingerprint(tokenizer) -> str:
    """A short hash of everything that decides a tokenizer's ids: its split pattern, byte ids, merges and
    special tokens. Two tokenizers with the same fingerprint encode every text the same way."""
    description = {
        "pattern": getattr(tokenizer, "pattern", None),
        "byte_to_id": list(tokenizer.byte_to_id),
        "merges": sorted((left, right, idx) for (left, right), idx in tokenizer.merges.items()),
        "special": sorted(tokenizer.special_tokens.items()),
    }
    return hashlib.sha256(json.dumps(description).encode("utf-8")).hexdigest()[:16]


def encode_corpus(
    text_path: str | Path, tokenizer, cache_dir: str | Path, val_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Encode a text file into (train, val) token streams, cached as a ``.npy`` file in ``cache_dir``.

    The ids are ``tokenizer.encode_ordinary(text)`` (special-token strings in the file are plain text),
    stored as uint16 when every id fits (vocabularies under 65,536 tokens; half the bytes of int32),
    else uint32. The cache file's name holds a hash of the text and ``tokenizer_fingerprint``, so a new
    text or a new tokenizer never reads a stale cache, and a second call with the same pair reads the
    file instead of encoding again. It is written to a temporary name and renamed into place, so an
    interrupted run never leaves a half-written cache behind. ``cache_dir`` is created, with its parents,
    when it is missing. An empty text gives two empty streams.

    Returns two read-only memory maps (np.memmap, opened with ``mmap_mode="r"``): train = the first
    ``1 - val_fraction`` of the ids, val = the rest (``split = int(len(ids) * (1 - val_fraction))``).

    >>> train, val = encode_corpus("data/tinyshakespeare.txt", tokenizer, "runs/cache")  # a 1,024-token BPE
    >>> train.dtype, len(train), len(val)
    (dtype('uint16'), 414520, 46058)
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    ### BEGIN SOLUTION
    text = Path(text_path).read_text(encoding="utf-8")
    text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    cache_dir = Path(cache_dir)
    cache_file = cache_dir / f"{Path(text_path).stem}-{text_hash}-{tokenizer_fingerprint(tokenizer)}.npy"
    if not cache_file.is_file():
        ids = tokenizer.encode_ordinary(text)
        dtype = np.uint16 if max(ids, default=0) < 2**16 else np.uint32
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_file.with_name(f"{cache_file.stem}.{os.getpid()}.tmp.npy")
        np.save(partial, np.array(ids, dtype=dtype))
        os.replace(partial, cache_file)  # atomic: readers see the old state or the whole file
    ids = np.load(cache_file, mmap_mode="r")
    split = int(len(ids) * (1.0 - val_fraction))
    return ids[:split], ids[split:]
    ### END SOLUTION


def get_batch(
    data: np.ndarray, batch_size: int, block_size: int, generator: torch.Generator, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut ``batch_size`` random windows out of a token stream: inputs x and targets y, both (batch, block).

    Each row starts at an offset drawn uniformly from 0 .. len(data) - block_size - 1 (every window whose
    next-token targets still lie inside the stream, the last one included) with ``generator``, so a seeded
    generator gives the same batches on every run. y is x shifted by one: y[b, t] = data[offset_b + t + 1].
    Both are int64 (what embeddings and cross-entropy take) on ``device``.

    >>> data = np.arange(100, dtype=np.uint16)
    >>> x, y = get_batch(data, 2, 4, torch.Generator().manual_seed(0))
    >>> x   # two windows
    tensor([[44, 45, 46, 47],
            [15, 16, 17, 18]])
    >>> y   # the same windows one token later
    tensor([[45, 46, 47, 48],
            [16, 17, 18, 19]])
    """
    if len(data) < block_size + 1:
        raise ValueError(f"a stream of {len(data)} tokens is too short for block_size {block_size} (needs block_size + 1)")
    ### BEGIN SOLUTION
    # randint's upper bound is exclusive: offsets 0 .. len - block_size - 1, the last full window included.
    offsets = torch.randint(len(data) - block_size, (batch_size,), generator=generator).numpy()
    windows = np.asarray(data)[offsets[:, None] + np.arange(block_size + 1)]  # (batch, block + 1), one gather
    windows = torch.from_numpy(windows.astype(np.int64)).to(device)  # one copy to the device for x and y
    return windows[:, :-1], windows[:, 1:]
    ### END SOLUTION
