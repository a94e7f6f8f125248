"""Merges applied in the wrong order at encode: the latest-learned (highest rank) pair is merged first."""
TARGET = "bpe.py"


def apply_merges(ids, merges):
    while len(ids) >= 2:
        known = [pair for pair in get_stats(ids) if pair in merges]
        if not known:
            break
        pair = max(known, key=lambda p: merges[p])
        ids = merge(ids, pair, merges[pair])
    return ids
