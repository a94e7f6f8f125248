"""Merges applied in the wrong order at encode: the latest-learned (highest rank) pair is merged first."""
TARGET = "bpe.py"
REPLACE = {
    "        pair = min(stats, key=lambda p: merges.get(p, math.inf))\n": "        pair = max(stats, key=lambda p: merges.get(p, -math.inf))\n",
}
