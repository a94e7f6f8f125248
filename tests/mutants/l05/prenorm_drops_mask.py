"""Pre-norm block that does not pass its mask on to attention."""
TARGET = "norm.py"


def forward(self, x, mask=None):
    x = x + self.attn(self.ln_1(x))
    return x + self.mlp(self.ln_2(x))


PreNormBlock.forward = forward
