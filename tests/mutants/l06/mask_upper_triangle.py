"""The upper triangle: every token sees the future instead of the past."""
TARGET = "causal.py"
REPLACE = {
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()\n':
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).triu()\n',
}
