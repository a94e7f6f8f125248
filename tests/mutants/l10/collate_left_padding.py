"""Padding on the left: without an attention mask the real tokens attend to the padding and shift position."""
TARGET = "sft.py"


def collate(examples, pad_id):
    T = max(len(x) for x, _ in examples)
    x = torch.full((len(examples), T), pad_id, dtype=torch.long)
    y = torch.full((len(examples), T), IGNORE_INDEX, dtype=torch.long)
    for row, (xs, ys) in enumerate(examples):
        x[row, T - len(xs) :] = torch.tensor(xs, dtype=torch.long)
        y[row, T - len(ys) :] = torch.tensor(ys, dtype=torch.long)
    return x, y
