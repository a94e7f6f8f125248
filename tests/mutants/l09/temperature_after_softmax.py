"""Temperature applied after softmax: probabilities / T instead of logits / T (renormalised, T changes nothing)."""
TARGET = 'sampling.py'
REPLACE = {
    '    return logits / temperature\n': '    return (F.softmax(logits, dim=-1) / temperature).log()\n',
}
