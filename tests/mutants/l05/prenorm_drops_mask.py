"""Pre-norm block that does not pass its mask on to attention."""
TARGET = "norm.py"
REPLACE = {
    '        x = x + self.attn(self.ln_1(x), mask)\n':
    '        x = x + self.attn(self.ln_1(x))\n',
}
