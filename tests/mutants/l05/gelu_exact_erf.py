"""The exact erf GELU instead of GPT-2's tanh approximation."""
TARGET = "norm.py"


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
