"""Mask applied to the weights after the softmax: masked keys get 0 but the rows no longer sum to 1."""
TARGET = "attention.py"
REPLACE = {
    "    if mask is not None:\n"
    "        scores = scores.masked_fill(~mask, float(\"-inf\"))\n"
    "    weights = softmax(scores, dim=-1)\n":
    "    weights = softmax(scores, dim=-1)\n"
    "    if mask is not None:\n"
    "        weights = weights.masked_fill(~mask, 0.0)\n",
}
