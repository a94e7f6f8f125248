"""q divided by sqrt(head_dim) before lesson 3's attention, which divides by it again: scores scaled by 1/head_dim."""
TARGET = "multihead.py"
REPLACE = {
    "        q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))\n":
    "        q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))\n"
    "        q = q / q.size(-1) ** 0.5\n",
}
