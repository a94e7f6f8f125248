"""The weights returned are from a second, dropout-free attention: in train mode they are not the weights that multiplied v."""
TARGET = "multihead.py"
REPLACE = {
    "        out = self.resid_dropout(self.c_proj(merge_heads(y)))\n":
    "        out = self.resid_dropout(self.c_proj(merge_heads(y)))\n"
    "        _, weights = scaled_dot_product_attention(q, k, v, mask)\n",
}
