"""get_stats() does not count overlapping pairs: "aaa" counts (a, a) once."""
TARGET = "bpe.py"


def get_stats(ids, counts=None):
    counts = {} if counts is None else counts
    i = 0
    while i + 1 < len(ids):
        pair = (ids[i], ids[i + 1])
        counts[pair] = counts.get(pair, 0) + 1
        i += 2 if pair[0] == pair[1] else 1
    return counts
