"""LayerNorm that normalizes but forgets the learned scale and shift (weight, bias)."""
TARGET = "norm.py"


def forward(self, x):
    mean = x.mean(dim=-1, keepdim=True)
    var = (x - mean).pow(2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + self.eps)


LayerNorm.forward = forward
