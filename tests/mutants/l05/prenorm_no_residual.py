"""Block without residual connections: x = attn(ln_1(x)); x = mlp(ln_2(x))."""
TARGET = "norm.py"
REPLACE = {
    '        x = x + self.attn(self.ln_1(x), mask)\n        x = x + self.mlp(self.ln_2(x))\n':
    '        x = self.attn(self.ln_1(x), mask)\n        x = self.mlp(self.ln_2(x))\n',
}
