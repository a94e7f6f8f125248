"""LayerNorm with eps outside the square root: (x - mean) / (sqrt(var) + eps)."""
TARGET = "norm.py"


def forward(self, x):
    mean = x.mean(dim=-1, keepdim=True)
    var = (x - mean).pow(2).mean(dim=-1, keepdim=True)
    out = (x - mean) / (torch.sqrt(var) + self.eps) * self.weight
    return out + self.bias if self.bias is not None else out


LayerNorm.forward = forward
