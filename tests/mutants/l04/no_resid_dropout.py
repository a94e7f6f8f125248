"""Residual dropout forgotten: only the attention weights are dropped, the output of c_proj never is."""
TARGET = "multihead.py"
REPLACE = {
    "        out = self.resid_dropout(self.c_proj(merge_heads(y)))\n":
    "        out = self.c_proj(merge_heads(y))\n",
}
