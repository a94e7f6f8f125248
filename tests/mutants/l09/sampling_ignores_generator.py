"""Sampling draws from the global RNG, ignoring the generator: runs are not reproducible from a seed."""
TARGET = 'sampling.py'
REPLACE = {
    '    probs = F.softmax(logits, dim=-1)\n    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)\n': '    return torch.multinomial(F.softmax(logits, dim=-1), num_samples=1).squeeze(-1)\n',
}
