"""The fused path applies resid_dropout to the heads' output, before c_proj instead of after it."""
TARGET = "causal.py"
REPLACE = {
    '        return self.resid_dropout(self.c_proj(merge_heads(y)))\n':
    '        return self.c_proj(self.resid_dropout(merge_heads(y)))\n',
}
