"""Incremental trainer forgets to subtract the pairs a merge destroys: counts of old pairs go stale."""
TARGET = "bpe.py"
REPLACE = {
    "            for old in zip(word, word[1:]):\n                changes[old] -= weights[index]\n": "",
    # only the pairs that hold the new id are counted; the pairs the merge destroyed keep their counts
    "                changes[new] += weights[index]\n": "                changes[new] += weights[index] if new_id in new else 0\n",
}
