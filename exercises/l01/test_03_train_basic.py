"""Stage 3: training a basic BPE (on raw bytes) with a documented, deterministic tie-break.

The rule: the most frequent pair is merged next; a tie goes to the smallest pair, comparing (id1, id2).
With it, Wikipedia's example comes out as aa -> Z (256) "ZabdZabac", ab -> Y (257) "ZYdZYac",
ZY -> X (258) "XdXac". The oracle for a longer text is a plain recount written here in the spec.
"""
from collections import Counter
from functools import lru_cache
from pathlib import Path

from ..spec_helpers import naive_merge
from .bpe import BasicTokenizer, merge_priority, most_frequent_pair

a, b, c, d = 97, 98, 99, 100
Z, Y, X = 256, 257, 258


def naive_basic_merges(text: str, vocab_size: int) -> dict[tuple[int, int], int]:
    """An independent oracle: recount every pair after every merge; ties to the smallest pair."""
    ids = list(text.encode("utf-8"))
    merges = {}
    for new_id in range(256, vocab_size):
        counts = Counter(zip(ids, ids[1:]))
        if not counts:
            break
        top = max(counts.values())
        pair = min(p for p, n in counts.items() if n == top)
        merges[pair] = new_id
        ids = naive_merge(ids, pair, new_id)
    return merges


@lru_cache(maxsize=None)
def shakespeare(data_dir: Path, n: int) -> str:
    return (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:n]


def test_most_frequent_pair_breaks_ties_to_the_smallest_pair():
    got = most_frequent_pair({(b, d): 1, (a, b): 3, (Z, a): 2})
    assert got == (a, b), f"most_frequent_pair gave {got}, expected (97, 98): the highest count (3) wins"
    stats = {(Z, a): 2, (a, b): 2, (b, d): 1}
    got = most_frequent_pair(stats)
    assert got == (a, b), (
        f"most_frequent_pair({stats}) gave {got}, expected (97, 98): on a tie the SMALLEST pair wins, "
        "comparing (id1, id2) as tuples; is merge_priority() returning (-count, pair)?"
    )
    assert merge_priority((a, b), 2) < merge_priority((Z, a), 2) < merge_priority((a, b), 1), (
        "merge_priority(pair, count) should sort the next merge first: higher count first, then smaller pair"
    )


def test_basic_train_wikipedia_example():
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", vocab_size=259)
    want = {(a, a): Z, (a, b): Y, (Z, Y): X}
    assert tokenizer.merges == want, (
        f"training on 'aaabdaaabac' to 259 tokens gave merges {tokenizer.merges}, expected {want}: "
        "aa -> 256 ('ZabdZabac'), then the tie between (256, 97) and (97, 98) goes to the smaller, ab -> 257 "
        "('ZYdZYac'), then (256, 257) -> 258 ('XdXac'). New ids start at 256 and go up by one."
    )
    assert tokenizer.vocab[X] == b"aaab", f"vocab[258] should be b'aaab', got {tokenizer.vocab.get(X)!r}"
    assert len(tokenizer.vocab) == 259, f"vocab should hold 256 bytes + 3 merges = 259 ids, got {len(tokenizer.vocab)}"


def test_basic_train_matches_a_plain_recount(data_dir):
    text = shakespeare(data_dir, 3000)
    tokenizer = BasicTokenizer()
    tokenizer.train(text, vocab_size=300)
    want = naive_basic_merges(text, 300)
    got = tokenizer.merges
    assert len(got) == len(want), f"expected {len(want)} merges for vocab_size=300, got {len(got)}"
    for rank, ((pair, idx), (want_pair, want_idx)) in enumerate(zip(got.items(), want.items())):
        assert (pair, idx) == (want_pair, want_idx), (
            f"merge #{rank} is {pair} -> {idx}, expected {want_pair} -> {want_idx} "
            "(recount all pairs after each merge; ties go to the smallest pair)"
        )
    for idx, token in tokenizer.vocab.items():
        if idx >= 256:
            left, right = next(p for p, i in got.items() if i == idx)
            assert token == tokenizer.vocab[left] + tokenizer.vocab[right], (
                f"vocab[{idx}] is {token!r}, expected the bytes of its pair joined"
            )


def test_basic_train_stops_when_no_pairs_are_left():
    tokenizer = BasicTokenizer()
    tokenizer.train("abab", vocab_size=300)
    want = {(a, b): 256, (256, 256): 257}
    assert tokenizer.merges == want, (
        f"training on 'abab' gave {tokenizer.merges}, expected {want}: once the text is a single token "
        "there is nothing left to merge, so stop early"
    )


def test_most_frequent_pair_on_any_counts():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    most_frequent_pair({(a, b): 1})  # on a stub, fail here rather than inside hypothesis
    ids = st.sampled_from([0, 1, 97, 98, 255, 256, 300, 1000])
    stats_dicts = st.dictionaries(st.tuples(ids, ids), st.integers(1, 4), min_size=1, max_size=8)

    @settings(max_examples=60)
    @given(stats_dicts)
    def same_as_oracle(stats):
        top = max(stats.values())
        want = min(pair for pair, count in stats.items() if count == top)
        got = most_frequent_pair(dict(stats))
        assert got == want, (
            f"most_frequent_pair({stats}) gave {got}, expected {want}: the highest count wins, and a tie goes "
            "to the smallest pair compared as a tuple (id1 first, then id2), whatever the order of the dict"
        )

    same_as_oracle()


def test_basic_train_again_starts_afresh():
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", vocab_size=259)
    tokenizer.train("xyxyxy zz zz", vocab_size=258)
    want = naive_basic_merges("xyxyxy zz zz", 258)
    assert tokenizer.merges == want, (
        f"train('aaabdaaabac', 259) then train('xyxyxy zz zz', 258) left merges {tokenizer.merges}, expected "
        f"{want} (what a fresh tokenizer learns): training again must start from empty merges (self.merges = {{}})"
    )
    assert len(tokenizer.vocab) == 258 and tokenizer.vocab[256] == b"xy", (
        f"after the second training vocab should hold 258 ids, 256 being b'xy', got {len(tokenizer.vocab)} ids: rebuild it"
    )


def test_basic_train_degenerate_inputs():
    for text, vocab_size, why in (
        ("", 300, "an empty text has no pairs"),
        ("a", 300, "one byte has no pairs"),
        ("abcabc", 256, "vocab_size=256 leaves room for no merge"),
    ):
        tokenizer = BasicTokenizer()
        tokenizer.train(text, vocab_size=vocab_size)
        assert tokenizer.merges == {}, f"train({text!r}, vocab_size={vocab_size}) learned {tokenizer.merges}, expected no merges: {why}"
        assert len(tokenizer.vocab) == 256, f"train({text!r}, vocab_size={vocab_size}): vocab should hold the 256 bytes, got {len(tokenizer.vocab)} ids"


def test_basic_train_verbose_learns_the_same_merges(capsys):
    text = "aaabdaaabac aaab"
    quiet = BasicTokenizer()
    quiet.train(text, vocab_size=262)
    loud = BasicTokenizer()
    loud.train(text, vocab_size=262, verbose=True)
    printed = capsys.readouterr().out
    assert loud.merges == quiet.merges, (
        f"train(..., verbose=True) learned {loud.merges}, without verbose {quiet.merges}: verbose only prints"
    )
    assert printed.strip(), "train(..., verbose=True) printed nothing: print one line per merge learned"
