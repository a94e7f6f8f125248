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


# Another pre-tokenizer, for the tokenizer's `pattern` argument: letters, digits, other symbols and
# whitespace apart, so " the" is two pre-tokens here (GPT-2 keeps the space with the word).
OTHER_PATTERN = r"\p{L}+|\p{N}+|[^\s\p{L}\p{N}]+|\s+"


def naive_word_merges(word_counts: dict[tuple[int, ...], int], num_merges: int) -> dict[tuple[int, int], int]:
    """An independent oracle: recount every pair of every word (times its count) after each merge."""
    words = {word: list(word) for word in word_counts}
    merges = {}
    for new_id in range(256, 256 + num_merges):
        pairs = Counter()
        for word, ids in words.items():
            for pair in zip(ids, ids[1:]):
                pairs[pair] += word_counts[word]
        if not pairs:
            break
        top = max(pairs.values())
        pair = min(p for p, n in pairs.items() if n == top)
        merges[pair] = new_id
        words = {word: naive_merge(ids, pair, new_id) for word, ids in words.items()}
    return merges


def naive_regex_merges(text: str, vocab_size: int, pattern: str = GPT2_SPLIT_PATTERN) -> dict[tuple[int, int], int]:
    """An independent oracle: pre-tokenize, then recount every pair of every word after each merge."""
    counts = Counter(regex.findall(pattern, text))
    return naive_word_merges({tuple(word.encode("utf-8")): n for word, n in counts.items()}, vocab_size - 256)


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


def test_train_merges_matches_a_plain_recount_on_any_words():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    train_merges({(104, 105): 1}, 1)  # on a stub, fail here rather than inside hypothesis
    # A small alphabet, so that words repeat pairs ("abab", "aaaa") and merges build on merges.
    words = st.lists(st.sampled_from([97, 98, 99]), min_size=1, max_size=8).map(tuple)
    word_counts = st.dictionaries(words, st.integers(1, 6), max_size=6)

    @settings(max_examples=60)
    @given(word_counts, st.integers(0, 12))
    def same_as_recount(word_counts, num_merges):
        got = train_merges(dict(word_counts), num_merges)
        want = naive_word_merges(word_counts, num_merges)
        assert got == want, (
            f"train_merges({word_counts}, {num_merges}): {first_difference(got, want)}. A word that holds a pair "
            "twice ('abab') counts it twice, times the word's count; after a merge subtract ALL the old pairs of "
            "each changed word and add all its new ones; num_merges=0 or no words means no merges"
        )

    same_as_recount()


def test_regex_train_uses_the_tokenizers_pattern(data_dir):
    text = shakespeare(data_dir, 12000)
    tokenizer = RegexTokenizer(pattern=OTHER_PATTERN)
    tokenizer.train(text, vocab_size=300)
    want = naive_regex_merges(text, 300, OTHER_PATTERN)
    assert tokenizer.merges == want, (
        f"RegexTokenizer(pattern=OTHER_PATTERN).train: {first_difference(tokenizer.merges, want)}. Split with the "
        "tokenizer's own pattern (self.compiled_pattern), not with the GPT2_SPLIT_PATTERN constant"
    )


def test_regex_train_again_starts_afresh(data_dir, capsys):
    tokenizer = RegexTokenizer()
    tokenizer.train(shakespeare(data_dir, 12000), vocab_size=300)
    tokenizer.train("hug hug pug pun bun", vocab_size=270, verbose=True)
    printed = capsys.readouterr().out
    want = naive_regex_merges("hug hug pug pun bun", 270)
    assert tokenizer.merges == want, (
        f"after training on Shakespeare, train('hug hug pug pun bun', 270) left {first_difference(tokenizer.merges, want)}: "
        "training again must replace the merges (self.merges = train_merges(...)), not add to them"
    )
    assert len(tokenizer.vocab) == 256 + len(want), f"vocab should hold {256 + len(want)} ids after training again, got {len(tokenizer.vocab)}"
    assert printed.strip(), "train(..., verbose=True) printed nothing: print one line per merge learned"
    tokenizer.train("", vocab_size=300)
    assert tokenizer.merges == {}, f"train('', 300) learned {tokenizer.merges}: an empty text has no pairs, so no merges"
