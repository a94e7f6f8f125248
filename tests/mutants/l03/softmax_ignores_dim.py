"""Softmax always over the last dim, whatever dim it is given."""
TARGET = "attention.py"
REPLACE = {
    '    x_max = x.amax(dim=dim, keepdim=True)\n':
    '    x_max = x.amax(dim=-1, keepdim=True)\n',
    '    total = exps.sum(dim=dim, keepdim=True)\n':
    '    total = exps.sum(dim=-1, keepdim=True)\n',
}
