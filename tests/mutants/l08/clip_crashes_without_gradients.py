"""clip_grad_norm stacks an empty list when no parameter has a gradient, instead of returning 0.0."""
TARGET = "optim.py"
REPLACE = {"    if not grads:\n        return 0.0\n": ""}
