"""Off-by-one shift: the logits at position t score token t instead of token t + 1."""
TARGET = "logprobs.py"


def token_logprobs(model, ids):
    logits, _ = model(ids[:, :-1])
    return F.log_softmax(logits, dim=-1).gather(-1, ids[:, :-1, None]).squeeze(-1)
