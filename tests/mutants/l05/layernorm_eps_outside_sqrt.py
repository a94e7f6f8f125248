"""LayerNorm with eps outside the square root: (x - mean) / (sqrt(var) + eps)."""
TARGET = "norm.py"
REPLACE = {
    '        x_hat = (x - mean) * torch.rsqrt(var + self.eps)':
    '        x_hat = (x - mean) / (torch.sqrt(var) + self.eps)',
}
