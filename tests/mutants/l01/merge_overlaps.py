"""merge() lets occurrences overlap: "aaa" with (a, a) becomes "ZZ" (which decodes to "aaaa") instead of "Za"."""
TARGET = "bpe.py"


def merge(ids, pair, new_id):
    out = []
    for i, idx in enumerate(ids):
        if i + 1 < len(ids) and idx == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
        elif not (i > 0 and ids[i - 1] == pair[0] and idx == pair[1]):
            out.append(idx)
    return out
