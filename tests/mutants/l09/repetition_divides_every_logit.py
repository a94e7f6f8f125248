"""Repetition penalty divides every seen logit, negative ones too: a negative logit moves UP (more likely)."""
TARGET = "sampling.py"


def apply_repetition_penalty(logits, previous_ids, penalty):
    seen = torch.gather(logits, -1, previous_ids)
    return logits.scatter(-1, previous_ids, seen / penalty)
