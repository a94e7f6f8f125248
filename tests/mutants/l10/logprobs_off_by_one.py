"""Off-by-one shift: the logits at position t score token t instead of token t + 1."""
TARGET = 'logprobs.py'
REPLACE = {
    '    logprobs = F.log_softmax(logits, dim=-1)  # (B, T - 1, vocab)\n    return logprobs.gather(-1, ids[:, 1:, None]).squeeze(-1)\n': '    return F.log_softmax(logits, dim=-1).gather(-1, ids[:, :-1, None]).squeeze(-1)\n',
}
