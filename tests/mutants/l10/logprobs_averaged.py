"""Sequence log-probabilities averaged over the response instead of summed."""
TARGET = "logprobs.py"


def sequence_logprobs(model, ids, response_mask):
    if response_mask[:, 0].any():
        raise ValueError("response_mask is True at position 0")
    mask = response_mask[:, 1:]
    return (token_logprobs(model, ids) * mask).sum(-1) / mask.sum(-1).clamp(min=1)
