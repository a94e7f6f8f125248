"""Temperature 0 divides by zero (logits / 0 = +-inf and NaN) instead of meaning greedy."""
TARGET = "sampling.py"


def apply_temperature(logits, temperature):
    return logits / temperature
