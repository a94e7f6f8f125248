"""Repetition penalty applied once per occurrence: a token seen three times is penalised three times."""
TARGET = 'sampling.py'
REPLACE = {
    '    if not (math.isfinite(penalty) and penalty > 0):\n        raise ValueError(f"repetition penalty must be a finite number > 0, got {penalty}")\n    ### BEGIN SOLUTION\n    seen = torch.gather(logits, -1, previous_ids)\n    seen = torch.where(seen < 0, seen * penalty, seen / penalty)\n    # A repeated id is written several times, always with the same value: penalised once.\n    return logits.scatter(-1, previous_ids, seen)\n': '    logits = logits.clone()\n    rows = logits.view(-1, logits.shape[-1])\n    for row, ids in zip(rows, previous_ids.reshape(rows.shape[0], -1)):\n        for token in ids.tolist():\n            row[token] = row[token] * penalty if row[token] < 0 else row[token] / penalty\n    return logits\n',
}
