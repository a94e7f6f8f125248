"""The mask is always built on the CPU, whatever device was asked for."""
TARGET = "causal.py"
REPLACE = {
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()\n':
    '    return torch.ones(seq_len, seq_len, dtype=torch.bool).tril()\n',
}
