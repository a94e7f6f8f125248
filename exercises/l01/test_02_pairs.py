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
    want = {(1, 2): 6, (2, 9): 1}
    assert got == want, f"get_stats([1, 2, 9], {{(1, 2): 5}}) returned {got}, expected {want}: add into the counts given"
    assert counts == want, f"get_stats(ids, counts) should update the dict it was given: expected {want}, it holds {counts}"


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


def test_get_stats_fills_an_empty_dict_it_is_given():
    counts = {}
    got = get_stats([a, b, a, b], counts)
    want = {(a, b): 2, (b, a): 1}
    assert got == want, f"get_stats([97, 98, 97, 98], {{}}) gave {got}, expected {want}"
    assert counts == want, (
        f"get_stats(ids, counts) with counts={{}} left the dict as {counts}, expected {want}: an empty dict is "
        "still a dict to fill. Write `counts = {} if counts is None else counts`, not `counts = counts or {}`"
    )


def test_pairs_match_a_plain_oracle_on_any_ids():
    from collections import Counter

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ..spec_helpers import naive_merge

    get_stats([1, 2])  # on a stub, fail here rather than inside hypothesis
    merge([1, 2], (1, 2), 3)
    ids_lists = st.lists(st.sampled_from([a, b, Z, 300]), max_size=14)
    pairs = st.tuples(st.sampled_from([a, b, Z]), st.sampled_from([a, b, Z]))

    @settings(max_examples=60)
    @given(ids_lists, pairs)
    def same_as_oracle(ids, pair):
        got = get_stats(list(ids))
        want = dict(Counter(zip(ids, ids[1:])))
        assert got == want, f"get_stats({ids}) gave {got}, expected {want}: count (ids[i], ids[i+1]) at EVERY position i"
        got = merge(list(ids), pair, 400)
        want = naive_merge(ids, pair, 400)
        assert got == want, (
            f"merge({ids}, {pair}, 400) gave {got}, expected {want}: scan left to right; at a match append "
            "new_id and jump past both ids (i += 2), otherwise append ids[i] and step by one"
        )

    same_as_oracle()
