"""Pre-norm block that normalizes the residual stream itself: x = ln_1(x) + attn(ln_1(x))."""
TARGET = "norm.py"


def forward(self, x, mask=None):
    x = self.ln_1(x)
    x = x + self.attn(x, mask)
    x = self.ln_2(x)
    return x + self.mlp(x)


PreNormBlock.forward = forward
