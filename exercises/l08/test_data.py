"""Specs for lesson 8, stages 1-2: the token stream on disk and random batches.

Oracles: your L01 tokenizer's own ``encode_ordinary`` for the stream; for the batches, the data itself (a
stream ``0, 1, 2, ...`` makes every window readable) and a chi-square test of uniformity.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ..l01.bpe import RegexTokenizer
from .data import encode_corpus, get_batch

SAMPLE = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n"
    "Señor café: naïve ünïcödé, 東京 and 😀 are bytes too.\n"
) * 8


def _tokenizer(vocab_size: int = 300, text: str = SAMPLE) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train(text, vocab_size)
    return tokenizer


def _write(folder, text: str = SAMPLE, name: str = "corpus.txt"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


class CountingTokenizer:
    """Wraps a tokenizer and counts its encode_ordinary calls (to see whether the cache is used).

    A wrapper rather than a subclass: when grading, the learner's RegexTokenizer lives in another process.
    """

    def __init__(self, tokenizer) -> None:
        self.tokenizer, self.calls = tokenizer, 0
        self.merges, self.byte_to_id, self.special_tokens = tokenizer.merges, tokenizer.byte_to_id, tokenizer.special_tokens

    def encode_ordinary(self, text):
        self.calls += 1
        return self.tokenizer.encode_ordinary(text)


# --- Stage 1: the token stream -----------------------------------------------------------------------


def test_encode_corpus_ids_and_split(tmp_path):
    tokenizer = _tokenizer()
    train, val = encode_corpus(_write(tmp_path), tokenizer, tmp_path / "cache", val_fraction=0.1)
    want = tokenizer.encode_ordinary(SAMPLE)
    split = int(len(want) * 0.9)
    assert len(train) + len(val) == len(want), (
        f"train + val hold {len(train)} + {len(val)} ids, but the text encodes to {len(want)}: "
        "encode the whole file once with tokenizer.encode_ordinary and split the ids"
    )
    assert len(train) == split, (
        f"train should be the first int(len(ids) * (1 - val_fraction)) = {split} ids, got {len(train)}"
    )
    assert np.array_equal(np.asarray(train), want[:split]) and np.array_equal(np.asarray(val), want[split:]), (
        "the ids differ from tokenizer.encode_ordinary(text): train = ids[:split], val = ids[split:], in order"
    )


def test_encode_corpus_stores_uint16(tmp_path):
    train, val = encode_corpus(_write(tmp_path), _tokenizer(), tmp_path / "cache")
    files = list((tmp_path / "cache").glob("*.npy"))
    assert len(files) == 1, f"expected one .npy cache file in cache_dir, found {[f.name for f in files]}"
    assert train.dtype == np.uint16 and val.dtype == np.uint16 and np.load(files[0]).dtype == np.uint16, (
        f"ids of a 300-token vocabulary fit in uint16 (2 bytes each): got {train.dtype} in memory and "
        f"{np.load(files[0]).dtype} on disk"
    )


def test_encode_corpus_uses_uint32_when_ids_do_not_fit(tmp_path):
    class WideTokenizer(CountingTokenizer):  # ids beyond 65535, as a 100k-token vocabulary has
        def encode_ordinary(self, text):
            return [70_000 + b for b in text.encode("utf-8")]

    train, _ = encode_corpus(_write(tmp_path), WideTokenizer(RegexTokenizer()), tmp_path / "cache")
    assert train.dtype == np.uint32 and int(train[0]) == 70_000 + SAMPLE.encode()[0], (
        f"ids above 65535 must be stored as uint32 (uint16 would wrap 70070 to {70070 % 65536}); got dtype "
        f"{train.dtype}, first id {int(train[0])}"
    )

    class EdgeTokenizer(CountingTokenizer):  # the largest id is 65535 (fits uint16) or 65536 (does not)
        def __init__(self, tokenizer, largest: int) -> None:
            super().__init__(tokenizer)
            self.largest = largest

        def encode_ordinary(self, text):
            return [self.largest - b % 2 for b in text.encode("utf-8")]

    for largest, want in ((65_535, np.uint16), (65_536, np.uint32)):
        text = f"largest id {largest}\n" * 8
        ids = EdgeTokenizer(RegexTokenizer(), largest).encode_ordinary(text)
        train, val = encode_corpus(_write(tmp_path, text, f"edge-{largest}.txt"), EdgeTokenizer(RegexTokenizer(), largest), tmp_path / "cache")
        got = np.concatenate([train, val])
        assert got.dtype == want and np.array_equal(got.astype(np.int64), ids), (
            f"ids up to {largest} came back as {got.dtype} with largest {int(got.max())}, expected {np.dtype(want)} "
            f"holding {largest}: uint16 holds 0..65535 exactly, so use it when max(ids) < 2**16 (65536 itself needs uint32)"
        )


def test_encode_corpus_returns_read_only_memmaps(tmp_path):
    train, val = encode_corpus(_write(tmp_path), _tokenizer(), tmp_path / "cache")
    for name, array in (("train", train), ("val", val)):
        assert isinstance(array, np.memmap), (
            f"{name} is a {type(array).__name__}: return np.load(cache_file, mmap_mode='r') slices, so a "
            "corpus larger than memory still works (the OS pages in what get_batch reads)"
        )
        assert not array.flags.writeable, f"{name} is writable: open the cache with mmap_mode='r'"


def test_encode_corpus_reads_the_cache_the_second_time(tmp_path):
    path = _write(tmp_path)
    counting = CountingTokenizer(_tokenizer())
    first = encode_corpus(path, counting, tmp_path / "cache")
    second = encode_corpus(path, counting, tmp_path / "cache")
    assert counting.calls == 1, (
        f"encode_ordinary ran {counting.calls} times for two calls with the same text and tokenizer: "
        "the second call should find the .npy file in cache_dir and load it"
    )
    assert all(np.array_equal(a, b) for a, b in zip(first, second)), "the cached ids differ from the first ones"


def test_encode_corpus_cache_is_keyed_by_text_and_tokenizer(tmp_path):
    path = _write(tmp_path)
    small, large = _tokenizer(270), _tokenizer(330)
    a, _ = encode_corpus(path, small, tmp_path / "cache")
    b, _ = encode_corpus(path, large, tmp_path / "cache")
    assert len(b) < len(a) and np.array_equal(np.concatenate(encode_corpus(path, large, tmp_path / "cache")),
                                              large.encode_ordinary(SAMPLE)), (
        "with another tokenizer (more merges) encode_corpus returned the first tokenizer's ids: the cache "
        "file's name must depend on the tokenizer (hash tokenizer_fingerprint(tokenizer) into it)"
    )  # fmt: skip
    other = "To be, or not to be, that is the question.\n" * 40
    _write(tmp_path, other)
    train, val = encode_corpus(path, small, tmp_path / "cache")
    assert np.array_equal(np.concatenate([train, val]), small.encode_ordinary(other)), (
        "after the file changed, encode_corpus returned the old text's ids: the cache file's name must "
        "depend on the text too (a hash of its contents, not only its path)"
    )


def test_encode_corpus_creates_missing_cache_folders(tmp_path):
    cache = tmp_path / "runs" / "deep" / "cache"  # neither runs/ nor runs/deep/ exists yet
    try:
        train, val = encode_corpus(_write(tmp_path), _tokenizer(), str(cache))
    except FileNotFoundError as exc:
        raise AssertionError(
            f"encode_corpus with a cache_dir whose parent folders do not exist failed: {exc}. Create it with "
            "Path(cache_dir).mkdir(parents=True, exist_ok=True)"
        ) from None
    assert len(list(cache.glob("*.npy"))) == 1 and len(train) + len(val) > 0, (
        f"expected one .npy file in the new folder {cache}, found {sorted(p.name for p in cache.glob('*'))}"
    )


def test_encode_corpus_of_an_empty_text(tmp_path):
    try:
        train, val = encode_corpus(_write(tmp_path, ""), _tokenizer(), tmp_path / "cache")
    except ValueError as exc:
        raise AssertionError(
            f"encode_corpus of an empty file raised ValueError: {exc}. An empty text has no ids: the dtype "
            "test must not fail on it (max(ids, default=0)), and the result is two empty streams"
        ) from None
    assert len(train) == 0 and len(val) == 0, f"an empty text should give two empty streams, got {len(train)} and {len(val)} ids"


def test_encode_corpus_takes_val_fraction(tmp_path):
    train, val = encode_corpus(_write(tmp_path), _tokenizer(), tmp_path / "cache", val_fraction=0.25)
    n = len(train) + len(val)
    assert len(train) == int(n * 0.75), f"val_fraction=0.25 should keep int(n * 0.75) = {int(n * 0.75)} ids for training, got {len(train)}"
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="val_fraction"):
            encode_corpus(_write(tmp_path), _tokenizer(), tmp_path / "cache", val_fraction=bad)


# --- Stage 2: batches --------------------------------------------------------------------------------


def test_get_batch_shapes_and_dtype():
    data = np.arange(1000, dtype=np.uint16)
    x, y = get_batch(data, 8, 32, torch.Generator().manual_seed(0))
    assert tuple(x.shape) == (8, 32) and tuple(y.shape) == (8, 32), (
        f"get_batch(data, batch_size=8, block_size=32) should give x and y of shape (8, 32), got "
        f"{tuple(x.shape)} and {tuple(y.shape)}"
    )
    assert x.dtype == torch.int64 and y.dtype == torch.int64, (
        f"x and y must be int64 (embedding lookups and cross-entropy take int64), got {x.dtype} and {y.dtype}"
    )
    assert x.device.type == "cpu"


def test_get_batch_targets_are_inputs_shifted_by_one():
    data = np.arange(5000, dtype=np.uint16)  # the stream 0, 1, 2, ...: each window is readable
    x, y = get_batch(data, 16, 24, torch.Generator().manual_seed(1))
    rows_consecutive = bool((x[:, 1:] - x[:, :-1] == 1).all())
    assert rows_consecutive, f"each row of x should be a contiguous window of the stream, got {x[0].tolist()}"
    if torch.equal(x, y):
        raise AssertionError("y equals x: the targets must be the NEXT tokens, y = data[i + 1 : i + block + 1]")
    assert torch.equal(y, x + 1), (
        f"y should be x shifted by one token (data[i + 1 : i + block + 1]); for x[0] = {x[0, :5].tolist()}... "
        f"got y[0] = {y[0, :5].tolist()}..."
    )


def test_get_batch_keeps_large_uint16_ids():
    data = np.full(100, 65_535, dtype=np.uint16)
    data[::2] = 40_000
    x, y = get_batch(data, 4, 10, torch.Generator().manual_seed(2))
    assert set(x.flatten().tolist()) | set(y.flatten().tolist()) == {40_000, 65_535}, (
        f"ids changed on the way: got {sorted(set(x.flatten().tolist()))}; convert uint16 to int64 "
        "(astype(np.int64)), not to int16, which turns 40000 and 65535 negative"
    )


def test_get_batch_is_reproducible_with_a_seeded_generator():
    data = np.arange(10_000, dtype=np.uint16)
    a = get_batch(data, 4, 8, torch.Generator().manual_seed(7))
    b = get_batch(data, 4, 8, torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]), "two generators with the same seed gave different batches: draw the offsets with torch.randint(..., generator=generator)"
    g = torch.Generator().manual_seed(7)
    first, second = get_batch(data, 4, 8, g)[0], get_batch(data, 4, 8, g)[0]
    assert not torch.equal(first, second), "two calls with the same generator gave the same batch: use (advance) the generator"


def test_get_batch_offsets_are_uniform_and_reach_both_ends():
    """Chi-square test of the offsets' uniformity over all valid starts.

    A stream of block_size + 16 tokens has exactly 16 valid offsets, 0..15 (the window and its next tokens
    must fit). 250 batches of 64 give 16,000 offsets, 1,000 expected per offset. The statistic
    sum((count - 1000)^2 / 1000) follows a chi-square law with 15 degrees of freedom when get_batch is
    uniform; it exceeds 56.49 with probability 1e-6 (scipy.stats.chi2.isf(1e-6, 15) = 56.4934). So a correct
    get_batch fails this spec for fewer than one seed in a million, and with the seed fixed the spec is
    deterministic anyway. A get_batch that never draws the last offset scores about 1,000.
    """
    block, n_offsets, draws = 8, 16, 250
    data = np.arange(block + n_offsets, dtype=np.uint16)
    g = torch.Generator().manual_seed(12345)
    counts = np.zeros(n_offsets + 2, dtype=np.int64)
    for _ in range(draws):
        x, y = get_batch(data, 64, block, g)
        assert int(y.max()) < len(data), "a window runs past the end of the stream"
        counts[: n_offsets + 2] += np.bincount(x[:, 0].numpy(), minlength=n_offsets + 2)[: n_offsets + 2]
    seen = counts[:n_offsets]
    assert counts[n_offsets:].sum() == 0, f"offsets beyond the last valid one ({n_offsets - 1}) were drawn"
    assert seen[0] > 0, "offset 0 (the very first window) is never drawn: offsets start at 0"
    assert seen[-1] > 0, (
        f"the last valid offset, len(data) - block_size - 1 = {n_offsets - 1}, is never drawn: "
        "torch.randint's upper bound is exclusive, so use torch.randint(len(data) - block_size, ...)"
    )
    expected = 64 * draws / n_offsets
    chi2 = float(((seen - expected) ** 2 / expected).sum())
    assert chi2 < 56.4934, (
        f"the offsets are not uniform over 0..{n_offsets - 1}: chi-square = {chi2:.1f} with 15 degrees of "
        f"freedom (a uniform sampler stays below 56.49 with probability 1 - 1e-6); counts: {seen.tolist()}"
    )


def test_get_batch_puts_both_tensors_on_the_device():
    data = np.arange(100, dtype=np.uint16)
    for device in ("meta", torch.device("meta")):  # a device without data: every CPU can make tensors on it
        x, y = get_batch(data, 3, 5, torch.Generator().manual_seed(4), device)
        assert (x.device.type, y.device.type) == ("meta", "meta"), (
            f"get_batch(..., device={device!r}) gave x on {x.device} and y on {y.device}: move both to the device "
            "(.to(device)), so the model on a GPU gets its batches there"
        )
        assert tuple(x.shape) == tuple(y.shape) == (3, 5) and x.dtype == y.dtype == torch.int64, (
            f"on the device: x {tuple(x.shape)} {x.dtype}, y {tuple(y.shape)} {y.dtype}; expected (3, 5) int64 for both"
        )


def test_get_batch_on_the_encoded_corpus(tmp_path):
    train, _ = encode_corpus(_write(tmp_path), _tokenizer(), tmp_path / "cache")
    x, y = get_batch(train, 4, 16, torch.Generator().manual_seed(3))
    stream = np.asarray(train).astype(np.int64)
    for row_x, row_y in zip(x.numpy(), y.numpy()):
        starts = np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(stream, 17) == np.append(row_x, row_y[-1]), axis=1))
        assert len(starts) > 0, "a row of (x, y) is not a window of the memmapped stream"
