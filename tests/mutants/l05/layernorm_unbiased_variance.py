"""LayerNorm with the unbiased variance (divides by n - 1), which F.layer_norm does not use."""
TARGET = "norm.py"
REPLACE = {
    '        var = (x - mean).pow(2).mean(dim=-1, keepdim=True)':
    '        var = x.var(dim=-1, keepdim=True, unbiased=True)',
}
