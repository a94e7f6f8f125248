"""LayerNorm that normalizes but forgets the learned scale and shift (weight, bias)."""
TARGET = "norm.py"
REPLACE = {
    '        out = x_hat * self.weight\n':
    '        return x_hat\n',
}
