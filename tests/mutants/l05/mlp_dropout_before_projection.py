"""The MLP applies dropout to the hidden activations instead of after c_proj."""
TARGET = "norm.py"
REPLACE = {
    '        return self.dropout(self.c_proj(gelu(self.c_fc(x))))\n':
    '        return self.c_proj(self.dropout(gelu(self.c_fc(x))))\n',
}
