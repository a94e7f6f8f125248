"""Stage 2: counting adjacent pairs and merging one pair everywhere.

The hand example is Wikipedia's: in "aaabdaaabac" the pair "aa" is the most frequent; replace it by a new
symbol Z (id 256) and the text becomes "ZabdZabac".
"""
from .bpe import get_stats, merge, text_to_bytes

a, b, c, d = 97, 98, 99, 100
Z = 256


def test_get_stats_counts_adjacent_pairs():
    got = get_stats([1, 2, 3, 1, 2])
    want = {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert got == want, f"get_stats([1, 2, 3, 1, 2]) gave {got}, expected {want}"
    got = get_stats(text_to_bytes("aaabdaaabac"))
    want = {(a, a): 4, (a, b): 2, (b, d): 1, (d, a): 1, (b, a): 1, (a, c): 1}
    assert got == want, f"get_stats('aaabdaaabac' as bytes) gave {got}, expected {want}"
    assert get_stats([]) == {} and get_stats([7]) == {}, "fewer than two ids have no pairs: expected {}"


def test_get_stats_counts_overlapping_pairs():
    got = get_stats([a, a, a])
    assert got == {(a, a): 2}, (
        f"get_stats([97, 97, 97]) gave {got}, expected {{(97, 97): 2}}: 'aaa' holds (a, a) at positions 0 and 1; "
        "count every position (zip(ids, ids[1:])), do not skip after a match"
    )


def test_get_stats_adds_into_given_counts():
    counts = {(1, 2): 5}
    got = get_stats([1, 2, 9], counts)
    assert got is counts, "get_stats(ids, counts) should update and return the dict it was given"
    assert counts == {(1, 2): 6, (2, 9): 1}, f"expected {{(1, 2): 6, (2, 9): 1}} after adding [1, 2, 9], got {counts}"


def test_merge_replaces_every_occurrence():
    got = merge([1, 2, 3, 1, 2], (1, 2), 4)
    assert got == [4, 3, 4], f"merge([1, 2, 3, 1, 2], (1, 2), 4) gave {got}, expected [4, 3, 4]"
    ids = text_to_bytes("aaabdaaabac")
    got = merge(ids, (a, a), Z)
    want = [Z, a, b, d, Z, a, b, a, c]  # "ZabdZabac"
    assert got == want, f"merging (a, a) -> Z in 'aaabdaaabac' gave {got}, expected {want} ('ZabdZabac')"
    assert ids == text_to_bytes("aaabdaaabac"), "merge() must return a new list and leave its input unchanged"
    assert merge([5, 6], (1, 2), 4) == [5, 6], "a pair that does not occur leaves the ids as they are"
    assert merge([1], (1, 2), 4) == [1] and merge([], (1, 2), 4) == [], "short inputs: nothing to merge"


def test_merge_is_left_to_right_without_overlap():
    cases = {
        (a, a, a): [Z, a],
        (a, a, a, a): [Z, Z],
        (b, a, a, a, b): [b, Z, a, b],
    }
    for ids, want in cases.items():
        got = merge(list(ids), (a, a), Z)
        assert got == want, (
            f"merge({list(ids)}, (97, 97), 256) gave {got}, expected {want}: after merging a pair, jump past "
            "both of its ids (i += 2), so that 'aaa' becomes 'Za' and not 'ZZ'"
        )
