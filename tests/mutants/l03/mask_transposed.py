"""Mask transposed: mask[key, query] read as mask[query, key], so a causal mask lets each query see the future and hides the past."""
TARGET = "attention.py"
REPLACE = {
    "        scores = scores.masked_fill(~mask, float(\"-inf\"))\n":
    "        scores = scores.masked_fill(~mask.transpose(-2, -1), float(\"-inf\"))\n",
}
