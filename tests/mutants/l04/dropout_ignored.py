"""Dropout never applied: neither dropout_p and training passed on, nor resid_dropout used."""
TARGET = "multihead.py"
REPLACE = {
    "            q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training\n":
    "            q, k, v, mask\n",
    "        out = self.resid_dropout(self.c_proj(merge_heads(y)))\n":
    "        out = self.c_proj(merge_heads(y))\n",
}
