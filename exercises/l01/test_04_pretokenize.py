"""Stage 4: pre-tokenization with GPT-2's split pattern; training counts each pre-token by its frequency.

The text is split into pre-tokens first ("Hello", " world", "'s", "  ", ...), and merges never cross two
of them. Each distinct pre-token is counted once, weighted by how often it occurs. The oracle is a plain
recount over the pre-tokens, written here in the spec.
"""
from collections import Counter
from functools import lru_cache
from pathlib import Path

import regex

from ..spec_helpers import naive_merge
from .bpe import GPT2_SPLIT_PATTERN, RegexTokenizer, train_merges


def naive_regex_merges(text: str, vocab_size: int) -> dict[tuple[int, int], int]:
    """An independent oracle: pre-tokenize, then recount every pair of every word after each merge."""
    counts = Counter(regex.findall(GPT2_SPLIT_PATTERN, text))
    words = {word: list(word.encode("utf-8")) for word in counts}
    merges = {}
    for new_id in range(256, vocab_size):
        pairs = Counter()
        for word, ids in words.items():
            for pair in zip(ids, ids[1:]):
                pairs[pair] += counts[word]
        if not pairs:
            break
        top = max(pairs.values())
        pair = min(p for p, n in pairs.items() if n == top)
        merges[pair] = new_id
        words = {word: naive_merge(ids, pair, new_id) for word, ids in words.items()}
    return merges


@lru_cache(maxsize=None)
def shakespeare(data_dir: Path, n: int) -> str:
    return (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:n]


def first_difference(got: dict, want: dict) -> str:
    for rank, (g, w) in enumerate(zip(got.items(), want.items())):
        if g != w:
            return f"merge #{rank} is {g[0]} -> {g[1]}, expected {w[0]} -> {w[1]}"
    return f"{len(got)} merges, expected {len(want)}"


def test_train_merges_weights_each_word_by_its_count():
    h, u, g, p, n, b_, s = (ord(ch) for ch in "hugpnbs")
    word_counts = {(h, u, g): 10, (p, u, g): 5, (p, u, n): 12, (b_, u, n): 4, (h, u, g, s): 5}
    got = train_merges(word_counts, 3)
    want = {(u, g): 256, (u, n): 257, (h, 256): 258}
    assert got == want, (
        f"train_merges on hug x10, pug x5, pun x12, bun x4, hugs x5 gave {got}, expected {want}: "
        "'ug' occurs 20 times, then 'un' 16 times, then 'h'+'ug' 15 times. A pair counts once per "
        "occurrence of each word (weight = the word's count), not once per distinct word."
    )


def test_train_merges_stops_when_no_pairs_are_left():
    h, i, sp = ord("h"), ord("i"), ord(" ")
    got = train_merges({(h, i): 1, (sp, h, i): 1}, 100)
    want = {(h, i): 256, (sp, 256): 257}
    assert got == want, f"train_merges on 'hi' and ' hi' with room for 100 merges gave {got}, expected {want}"


def test_regex_train_never_merges_across_pre_tokens(data_dir):
    tokenizer = RegexTokenizer()
    tokenizer.train(shakespeare(data_dir, 20000), vocab_size=400)
    assert len(tokenizer.merges) == 144, f"vocab_size=400 means 144 merges, got {len(tokenizer.merges)}"
    for idx in range(256, 400):
        token = tokenizer.vocab[idx].decode("utf-8", errors="replace")
        pieces = regex.findall(GPT2_SPLIT_PATTERN, token)
        assert pieces == [token], (
            f"token {idx} is {token!r}, which GPT-2's pattern splits into {pieces}: merges must stay inside "
            "one pre-token (split the text with regex.findall(self.pattern, text) before counting pairs)"
        )


def test_regex_train_matches_a_plain_recount(data_dir):
    for n, vocab_size in ((12000, 380), (100000, 280)):
        text = shakespeare(data_dir, n)
        tokenizer = RegexTokenizer()
        tokenizer.train(text, vocab_size=vocab_size)
        want = naive_regex_merges(text, vocab_size)
        assert tokenizer.merges == want, (
            f"training on the first {n} characters of Shakespeare: {first_difference(tokenizer.merges, want)}. "
            "Count each distinct pre-token once, weighted by its frequency; update pair counts of every word "
            "that changed (subtract its old pairs, add its new ones); ties go to the smallest pair."
        )
        for (left, right), idx in tokenizer.merges.items():
            assert tokenizer.vocab[idx] == tokenizer.vocab[left] + tokenizer.vocab[right], (
                f"vocab[{idx}] should be vocab[{left}] + vocab[{right}]: rebuild vocab after training"
            )
