"""Temperature 0 goes through the draw (a one-hot distribution) instead of greedy: it consumes the generator."""
TARGET = "sampling.py"
REPLACE = {
    "    if temperature == 0:\n        return greedy(logits)\n    logits = apply_temperature(logits, temperature)\n": "    logits = apply_temperature(logits, temperature)\n",
}
