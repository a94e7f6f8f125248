"""The exact erf GELU instead of GPT-2's tanh approximation."""
TARGET = "norm.py"
REPLACE = {
    '    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))\n':
    '    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))\n',
}
