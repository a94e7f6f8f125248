"""LayerNorm with the unbiased variance (divides by n - 1), which F.layer_norm does not use."""
TARGET = "norm.py"


def forward(self, x):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=True)
    out = (x - mean) / torch.sqrt(var + self.eps) * self.weight
    return out + self.bias if self.bias is not None else out


LayerNorm.forward = forward
