"""Block without residual connections: x = attn(ln_1(x)); x = mlp(ln_2(x))."""
TARGET = "norm.py"


def forward(self, x, mask=None):
    x = self.attn(self.ln_1(x), mask)
    return self.mlp(self.ln_2(x))


PreNormBlock.forward = forward
