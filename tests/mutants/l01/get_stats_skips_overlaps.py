"""get_stats() does not count overlapping pairs: "aaa" counts (a, a) once."""
TARGET = "bpe.py"
REPLACE = {
    "    for pair in zip(ids, ids[1:]):\n        counts[pair] = counts.get(pair, 0) + 1\n": (
        "    i = 0\n"
        "    while i + 1 < len(ids):\n"
        "        pair = (ids[i], ids[i + 1])\n"
        "        counts[pair] = counts.get(pair, 0) + 1\n"
        "        i += 2 if pair[0] == pair[1] else 1\n"
    ),
}
