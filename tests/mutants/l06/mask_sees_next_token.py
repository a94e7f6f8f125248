"""Off-by-one diagonal: tril(1) lets position t see token t + 1."""
TARGET = "causal.py"
REPLACE = {
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()\n':
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril(1)\n',
}
