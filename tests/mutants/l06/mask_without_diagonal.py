"""A mask that lets a token not see itself: tril(-1) drops the diagonal."""
TARGET = "causal.py"
REPLACE = {
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()\n':
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril(-1)\n',
}
