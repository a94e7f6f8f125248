"""Residual dropout applied before the output projection instead of after it."""
TARGET = "multihead.py"
REPLACE = {
    "        out = self.resid_dropout(self.c_proj(merge_heads(y)))\n":
    "        out = self.c_proj(self.resid_dropout(merge_heads(y)))\n",
}
