"""Pre-norm block that normalizes the residual stream itself: x = ln_1(x) + attn(ln_1(x))."""
TARGET = "norm.py"
REPLACE = {
    '        x = x + self.attn(self.ln_1(x), mask)\n        x = x + self.mlp(self.ln_2(x))\n':
    '        x = self.ln_1(x)\n        x = x + self.attn(x, mask)\n        x = self.ln_2(x)\n        x = x + self.mlp(x)\n',
}
