"""Temperature applied after softmax: probabilities / T instead of logits / T (renormalised, T changes nothing)."""
TARGET = "sampling.py"


def apply_temperature(logits, temperature):
    if temperature == 0:
        keep = F.one_hot(greedy(logits), logits.shape[-1]).bool()
        return logits.masked_fill(~keep, float("-inf"))
    return (F.softmax(logits, dim=-1) / temperature).log()
