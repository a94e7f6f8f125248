"""training=self.training not passed on: lesson 3's default training=False switches the attention dropout off."""
TARGET = "multihead.py"
REPLACE = {
    "            q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training\n":
    "            q, k, v, mask, dropout_p=self.attn_dropout.p\n",
}
