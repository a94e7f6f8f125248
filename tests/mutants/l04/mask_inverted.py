"""Mask inverted before the attention (PyTorch's nn.MultiheadAttention convention, True = blocked): each token sees only what it should not."""
TARGET = "multihead.py"
REPLACE = {
    "            q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training\n":
    "            q, k, v, None if mask is None else ~mask, dropout_p=self.attn_dropout.p, training=self.training\n",
}
