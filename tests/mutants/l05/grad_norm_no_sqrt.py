"""The measurement returns the squared norm (no square root): sum of the squares of the gradients."""
TARGET = "norm.py"
REPLACE = {
    "    return torch.sqrt(sum(g.pow(2).sum() for g in grads)).item()\n":
    "    return sum(g.pow(2).sum() for g in grads).item()\n",
}
