"""Top-p before top-k and before the temperature: the nucleus is cut from the wrong distribution."""
TARGET = 'sampling.py'
REPLACE = {
    '    logits = apply_temperature(logits, temperature)\n': '    if top_p is not None:\n        logits = top_p_filter(logits, top_p)\n',
    '    if top_p is not None:\n        logits = top_p_filter(logits, top_p)\n    probs = F.softmax(logits, dim=-1)\n    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)\n': '    logits = apply_temperature(logits, temperature)\n    return torch.multinomial(F.softmax(logits, dim=-1), num_samples=1, generator=generator).squeeze(-1)\n',
}
