"""Post-norm block written in pre-norm order (normalize the input instead of the sum)."""
TARGET = "norm.py"


def forward(self, x, mask=None):
    x = x + self.attn(self.ln_1(x), mask)
    return x + self.mlp(self.ln_2(x))


PostNormBlock.forward = forward
