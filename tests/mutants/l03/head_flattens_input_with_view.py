"""SelfAttention flattens x with .view before the projections: a transposed or sliced x raises."""
TARGET = "attention.py"
REPLACE = {
    "        q, k, v = self.query(x), self.key(x), self.value(x)\n":
    "        flat = x.view(-1, self.d_model)\n"
    "        q, k, v = (layer(flat).view(*x.shape[:-1], -1) for layer in (self.query, self.key, self.value))\n",
}
