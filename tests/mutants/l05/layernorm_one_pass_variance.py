"""LayerNorm with the one-pass variance mean(x^2) - mean^2: catastrophic cancellation in float32 when the mean is far from 0 (x + 1e4)."""
TARGET = "norm.py"
REPLACE = {
    '        var = (x - mean).pow(2).mean(dim=-1, keepdim=True)':
    '        var = x.pow(2).mean(dim=-1, keepdim=True) - mean.pow(2)',
}
