"""A 3-D mask taken for (B, T, T) and given a head dim: a per-head (n_head, T, T) mask then lands on the batch axis."""
TARGET = "multihead.py"
REPLACE = {
    "        q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))\n":
    "        q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))\n"
    "        if mask is not None and mask.dim() == 3:\n"
    "            mask = mask.unsqueeze(1)\n",
}
