"""The MLP calls F.dropout(h, p), whose training flag defaults to True: it drops outputs in eval() mode too."""
TARGET = "norm.py"
REPLACE = {
    '        return self.dropout(self.c_proj(gelu(self.c_fc(x))))\n':
    '        return F.dropout(self.c_proj(gelu(self.c_fc(x))), self.dropout.p)\n',
}
