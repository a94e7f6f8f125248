"""Softmax without subtracting the max: exp(1000) overflows to inf and inf / inf is NaN."""
TARGET = "attention.py"
REPLACE = {
    '    exps = torch.exp(x - x_max)\n':
    '    exps = torch.exp(x)\n',
}
