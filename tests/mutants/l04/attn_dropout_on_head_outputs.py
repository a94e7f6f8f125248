"""Attention dropout applied to the heads' outputs (weights @ v) instead of to the attention weights."""
TARGET = "multihead.py"
REPLACE = {
    "            q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training\n":
    "            q, k, v, mask\n",
    "        out = self.resid_dropout(self.c_proj(merge_heads(y)))\n":
    "        out = self.resid_dropout(self.c_proj(merge_heads(self.attn_dropout(y))))\n",
}
