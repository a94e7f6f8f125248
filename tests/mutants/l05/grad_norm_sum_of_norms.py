"""The measurement adds up one L2 norm per parameter instead of taking the norm of all the gradients together."""
TARGET = "norm.py"
REPLACE = {
    '    return torch.sqrt(sum(g.pow(2).sum() for g in grads)).item()\n':
    '    return sum(g.norm() for g in grads).item()\n',
}
