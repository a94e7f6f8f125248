"""Repetition penalty applied once per occurrence: a token seen three times is penalised three times."""
TARGET = "sampling.py"


def apply_repetition_penalty(logits, previous_ids, penalty):
    logits = logits.clone()
    rows = logits.view(-1, logits.shape[-1])
    for row, ids in zip(rows, previous_ids.reshape(rows.shape[0], -1)):
        for token in ids.tolist():
            row[token] = row[token] * penalty if row[token] < 0 else row[token] / penalty
    return logits
