"""Repetition penalty divides every seen logit, negative ones too: a negative logit moves UP (more likely)."""
TARGET = 'sampling.py'
REPLACE = {
    '    seen = torch.where(seen < 0, seen * penalty, seen / penalty)\n    # A repeated id is written several times, always with the same value: penalised once.\n    return logits.scatter(-1, previous_ids, seen)\n': '    return logits.scatter(-1, previous_ids, seen / penalty)\n',
}
