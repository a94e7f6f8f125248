"""Top-p before top-k and before the temperature: the nucleus is cut from the wrong distribution."""
TARGET = "sampling.py"


def sample_next(logits, *, temperature=1.0, top_k=None, top_p=None, generator=None):
    if temperature == 0:
        return greedy(logits)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    logits = apply_temperature(logits, temperature)
    return torch.multinomial(F.softmax(logits, dim=-1), num_samples=1, generator=generator).squeeze(-1)
