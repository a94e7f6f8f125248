"""Stable softmax that forgets all -inf rows: -inf - (-inf) gives NaN for a query that may attend to nothing."""
TARGET = "attention.py"
REPLACE = {
    '    x_max = torch.where(torch.isneginf(x_max), torch.zeros_like(x_max), x_max)\n':
    '',
    '    return exps / torch.where(total == 0, torch.ones_like(total), total)\n':
    '    return exps / total\n',
}
