"""Stage 5: encoding by merge rank; decoding that never crashes.

Encoding replays the merges in the order they were learned: in each pre-token, merge the adjacent pair
with the LOWEST rank (the earliest learned), again and again. The oracle is tiktoken, built from the
tokenizer's own vocabulary: tiktoken ranks every token by its id and merges the same way.
"""
from functools import lru_cache
from pathlib import Path

import pytest

from .bpe import GPT2_SPLIT_PATTERN, BasicTokenizer, RegexTokenizer, apply_merges

ROUND_TRIPS = [
    "",
    " ",
    "   \n\n\t  \r\n   ",
    "hello world",
    "Hello, World! I'm here; you'll see, they've gone, we're done, it's ok.",
    "😀 🎉 emoji 👍🏽 and a flag 🇫🇷",
    "naïve café — 日本語 русский العربية हिन्दी",
    "tabs\tand    spaces   ",
    "numbers 12345 and 3.14159",
    "<|endoftext|> looks special but is text here",
]

# Another pre-tokenizer, for the tokenizer's `pattern` argument (GPT-2 keeps " the" whole; this one does not).
OTHER_PATTERN = r"\p{L}+|\p{N}+|[^\s\p{L}\p{N}]+|\s+"


@lru_cache(maxsize=None)
def trained(data_dir: Path) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20000], vocab_size=400)
    return tokenizer


def tiktoken_of(tokenizer, pattern: str = GPT2_SPLIT_PATTERN):
    """tiktoken with the same tokens: each token's bytes ranked by its id (ids are handed out in merge order)."""
    import tiktoken

    ranks = {token: idx for idx, token in tokenizer.vocab.items()}
    return tiktoken.Encoding(name="l01_trained", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})


def any_text():
    """Texts that exercise GPT-2's pattern: contractions, whitespace runs, numbers, punctuation, accents, CJK,
    emoji (4 bytes, some of several code points), control characters and any code point but the surrogates."""
    from hypothesis import strategies as st

    pieces = st.sampled_from([
        "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'x", "I", " the", " The", "ing", "e", "  ", " ", "   ",
        "\n", "\n\n", "\t", "\r\n", " 42", "3.14", "0", "!", "?!", " --", ",", "é", " naïve", "日本語", " 한국어",
        "😀", "👍🏽", "👩‍👩‍👧", "🇫🇷", "\x00", "\u00a0", "\u3000",
    ])
    code_points = st.one_of(st.integers(0, 0x7F), st.integers(0x80, 0xD7FF), st.integers(0xE000, 0x10FFFF)).map(chr)
    return st.lists(st.one_of(pieces, pieces, code_points), max_size=25).map("".join)


def test_apply_merges_uses_the_lowest_rank_first():
    merges = {(98, 99): 256, (97, 98): 257}  # "bc" was learned before "ab"
    got = apply_merges([97, 98, 99], merges)
    assert got == [97, 256], (
        f"apply_merges('abc', {merges}) gave {got}, expected [97, 256]: (98, 99) has the lower rank (it was "
        "learned first), so it is merged first, and then no known pair is left"
    )
    wiki = {(97, 97): 256, (97, 98): 257, (256, 257): 258}
    got = apply_merges([97, 97, 97, 98], wiki)
    assert got == [258], f"apply_merges('aaab', {wiki}) gave {got}, expected [258]"
    assert apply_merges([120, 121], wiki) == [120, 121], "no known pair: the ids come back as they are"
    assert apply_merges([], wiki) == [] and apply_merges([97], wiki) == [97], "short inputs come back as they are"


def test_basic_encode_wikipedia_example():
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", vocab_size=259)
    got = tokenizer.encode("aaabdaaabac")
    assert got == [258, 100, 258, 97, 99], f"encode('aaabdaaabac') gave {got}, expected [258, 100, 258, 97, 99] ('XdXac')"
    assert tokenizer.encode("") == [], "encode('') should be []"
    assert tokenizer.decode([258, 100, 258, 97, 99]) == "aaabdaaabac", "decode should invert encode"


def test_regex_encode_matches_tiktoken(data_dir):
    tokenizer = trained(data_dir)
    oracle = tiktoken_of(tokenizer)
    unseen = (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[20000:60000]
    for text in [unseen, *ROUND_TRIPS]:
        got, want = tokenizer.encode_ordinary(text), oracle.encode_ordinary(text)
        if got != want:
            i = next((k for k, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
            pytest.fail(
                f"encode_ordinary differs from tiktoken at token {i}: got {got[i:i + 5]}, expected {want[i:i + 5]} "
                f"(text {text[:40]!r}...): split with the pattern, then in each pre-token merge the pair with the "
                "LOWEST rank first (min, not max), until no learned pair is left"
            )


def test_decode_never_crashes():
    tokenizer = BasicTokenizer()
    got = tokenizer.decode([104, 195])
    assert got == "h\ufffd", f"decode([104, 195]) gave {got!r}, expected 'h\\ufffd': half a character is U+FFFD"
    emoji = list("😀".encode("utf-8"))
    pieces = [tokenizer.decode([byte]) for byte in emoji]
    assert pieces == ["\ufffd"] * 4, f"decoding each byte of '😀' alone gave {pieces}, expected four U+FFFD"
    assert tokenizer.decode(emoji) == "😀", "decoding all four bytes together gives the emoji back"
    with pytest.raises(ValueError):
        tokenizer.decode([104, 99999])  # no such id: a ValueError naming it


def test_round_trips(data_dir):
    for tokenizer, encode in ((BasicTokenizer(), BasicTokenizer.encode), (trained(data_dir), RegexTokenizer.encode_ordinary)):
        for text in ROUND_TRIPS:
            ids = encode(tokenizer, text)
            got = tokenizer.decode(ids)
            assert got == text, f"{type(tokenizer).__name__}: decode(encode({text!r})) gave {got!r}"


def test_round_trip_any_text(data_dir):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokenizer = trained(data_dir)
    # Any code point but the surrogates (which UTF-8 cannot encode): ASCII, the rest of the BMP, emoji and beyond.
    # Built from integers rather than st.text() so hypothesis need not build its Unicode tables on every run.
    code_points = st.one_of(st.integers(0, 0x7F), st.integers(0x80, 0xD7FF), st.integers(0xE000, 0x10FFFF))
    texts = st.lists(code_points.map(chr), max_size=40).map("".join)

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(texts)
    def round_trip(text):
        got = tokenizer.decode(tokenizer.encode_ordinary(text))
        assert got == text, f"decode(encode_ordinary({text!r})) gave {got!r}"

    round_trip()


def test_encode_ordinary_matches_tiktoken_on_any_text(data_dir):
    from hypothesis import given, settings

    tokenizer = trained(data_dir)
    oracle = tiktoken_of(tokenizer)
    tokenizer.encode_ordinary("warm up")  # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=60)
    @given(any_text())
    def same_as_tiktoken(text):
        first = tokenizer.encode_ordinary(text)
        want = oracle.encode_ordinary(text)
        assert first == want, (
            f"encode_ordinary({text!r}) gave {first}, tiktoken gives {want}: split with the pattern (whitespace "
            "runs, contractions, digits and emoji included), map each byte through byte_to_id, then merge the "
            "LOWEST-ranked learned pair first until none is left"
        )
        again = tokenizer.encode_ordinary(text)
        assert again == want, (
            f"encoding {text!r} a second time gave {again}, the first time {first}: the cache of pre-tokens must "
            "hold a pre-token's ids unchanged (do not hand out, and then extend, the cached list itself)"
        )

    same_as_tiktoken()


def test_encode_uses_the_tokenizers_pattern(data_dir):
    tokenizer = RegexTokenizer(pattern=OTHER_PATTERN)
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:12000], vocab_size=300)
    oracle = tiktoken_of(tokenizer, OTHER_PATTERN)
    for text in [(data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[20000:25000], *ROUND_TRIPS]:
        got, want = tokenizer.encode_ordinary(text), oracle.encode_ordinary(text)
        assert got == want, (
            f"RegexTokenizer(pattern=OTHER_PATTERN).encode_ordinary({text[:40]!r}...) differs from tiktoken with "
            f"that pattern (got {got[:8]}..., expected {want[:8]}...): split with the tokenizer's own pattern "
            "(self.compiled_pattern), not with the GPT2_SPLIT_PATTERN constant"
        )


def test_encode_after_training_again(data_dir):
    shakespeare = (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")
    text = shakespeare[60000:64000]
    tokenizer = RegexTokenizer()
    tokenizer.train(shakespeare[:20000], vocab_size=350)
    first = tokenizer.encode_ordinary(text)
    assert first == tiktoken_of(tokenizer).encode_ordinary(text), "encode_ordinary differs from tiktoken after a first training"
    tokenizer.train(shakespeare[30000:50000], vocab_size=330)
    got, want = tokenizer.encode_ordinary(text), tiktoken_of(tokenizer).encode_ordinary(text)
    assert got == want, (
        f"after training again, encode_ordinary gave {got[:8]}..., tiktoken with the new merges {want[:8]}...: "
        "encodings remembered from the old merges are stale. Keep the cache in self._cache, which "
        "_build_vocab() empties after every training, loading or registration"
    )


CACHE_LIMIT = 1 << 16  # MAX_CACHE_SIZE in bpe.py: the cache is emptied when it holds this many pre-tokens


def test_encode_caches_pre_tokens_in_a_bounded_cache():
    tokenizer = RegexTokenizer()
    tokenizer.train("hug hug pug pun bun", vocab_size=259)
    got = tokenizer.encode_ordinary(" hug pun")
    cache = dict(tokenizer._cache)
    assert set(cache) == {" hug", " pun"} and cache[" hug"] + cache[" pun"] == got, (
        f"after encode_ordinary(' hug pun') on a fresh tokenizer, self._cache holds {cache}, expected the ids of "
        "each pre-token under its text, {' hug': [...], ' pun': [...]}: _encode_chunk should remember every "
        "pre-token it encodes in self._cache (self._cache[chunk] = ids), so that repeated words cost a lookup"
    )
    # A fresh cache, then one pre-token more than it may hold: " 0", " 1", ..., each of them new.
    tokenizer = RegexTokenizer()
    tokenizer.encode_ordinary("".join(f" {i}" for i in range(CACHE_LIMIT + 1)))
    size = len(tokenizer._cache)
    assert size <= CACHE_LIMIT, (
        f"after encoding {CACHE_LIMIT + 1:,} distinct pre-tokens the cache holds {size:,} of them, more than "
        f"MAX_CACHE_SIZE ({CACHE_LIMIT:,}): empty it when it is full, before adding the next one "
        "(if len(self._cache) >= MAX_CACHE_SIZE: self._cache.clear()), so that memory stays bounded on any text"
    )


def test_decode_any_slice_matches_tiktoken(data_dir):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokenizer = trained(data_dir)
    oracle = tiktoken_of(tokenizer)
    tokenizer.decode([104, 105])  # on a stub, fail here rather than inside hypothesis

    @settings(max_examples=60)
    @given(any_text(), st.integers(0, 30), st.integers(0, 30))
    def same_as_tiktoken(text, start, length):
        ids = oracle.encode_ordinary(text)[start:start + length]  # may start or end inside a character
        got, want = tokenizer.decode(ids), oracle.decode(ids, errors="replace")
        assert got == want, (
            f"decode({ids}) gave {got!r}, tiktoken gives {want!r}: join the bytes of ALL the tokens first, then "
            "read them as UTF-8 once with errors='replace' (a character may be split over several tokens, and "
            "the ids may start or stop in the middle of one)"
        )

    same_as_tiktoken()
