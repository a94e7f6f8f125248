"""Ignored targets count as zero loss but stay in the mean's denominator."""
TARGET = "optim.py"


def lm_loss(logits, targets, ignore_index=-100):
    logits = logits.reshape(-1, logits.size(-1)).float()
    targets = targets.reshape(-1)
    counted = targets != ignore_index
    picked = logits.gather(1, targets.clamp(min=0)[:, None]).squeeze(1)
    return ((torch.logsumexp(logits, dim=-1) - picked) * counted).sum() / targets.numel()
