"""Sequence log-probabilities averaged over the response instead of summed."""
TARGET = 'logprobs.py'
REPLACE = {
    '        raise ValueError("response_mask is True at position 0: the first token has no log-probability")\n    ### BEGIN SOLUTION\n    return (token_logprobs(model, ids) * response_mask[:, 1:]).sum(dim=-1)\n': '        raise ValueError("response_mask is True at position 0")\n    mask = response_mask[:, 1:]\n    return (token_logprobs(model, ids) * mask).sum(-1) / mask.sum(-1).clamp(min=1)\n',
}
