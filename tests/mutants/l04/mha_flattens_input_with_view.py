"""x flattened with .view before c_attn: a transposed or sliced (non-contiguous) input raises instead of working."""
TARGET = "multihead.py"
REPLACE = {
    "        q, k, v = self.c_attn(x).split(self.d_model, dim=-1)\n":
    "        q, k, v = self.c_attn(x.view(-1, self.d_model)).view(*x.shape[:-1], -1).split(self.d_model, dim=-1)\n",
}
