"""log(sum(exp(logits))) without subtracting the max: exp(1000) overflows to inf."""
TARGET = "optim.py"


def lm_loss(logits, targets, ignore_index=-100):
    logits = logits.reshape(-1, logits.size(-1)).float()
    targets = targets.reshape(-1)
    counted = targets != ignore_index
    logits, targets = logits[counted], targets[counted]
    picked = logits.gather(1, targets[:, None]).squeeze(1)
    return (logits.exp().sum(dim=-1).log() - picked).mean()
