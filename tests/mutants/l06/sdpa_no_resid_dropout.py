"""The fused path forgets resid_dropout on the output of c_proj."""
TARGET = "causal.py"
REPLACE = {
    '        return self.resid_dropout(self.c_proj(merge_heads(y)))\n':
    '        return self.c_proj(merge_heads(y))\n',
}
