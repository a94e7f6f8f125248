"""Padding on the left: without an attention mask the real tokens attend to the padding and shift position."""
TARGET = 'sft.py'
REPLACE = {
    '        x[row, : len(xs)] = torch.tensor(xs, dtype=torch.long)\n        y[row, : len(ys)] = torch.tensor(ys, dtype=torch.long)\n': '        x[row, T - len(xs) :] = torch.tensor(xs, dtype=torch.long)\n        y[row, T - len(ys) :] = torch.tensor(ys, dtype=torch.long)\n',
}
