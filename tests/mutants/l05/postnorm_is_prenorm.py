"""Post-norm block written in pre-norm order (normalize the input instead of the sum)."""
TARGET = "norm.py"
REPLACE = {
    '        x = self.ln_1(x + self.attn(x, mask))\n        x = self.ln_2(x + self.mlp(x))\n':
    '        x = x + self.attn(self.ln_1(x), mask)\n        x = x + self.mlp(self.ln_2(x))\n',
}
