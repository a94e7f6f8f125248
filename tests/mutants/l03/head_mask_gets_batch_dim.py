"""The head adds a batch dim to the mask (mask.unsqueeze(0)): fine for a (T, T) causal mask, wrong for (B, 1, T) and (B, T, T) masks."""
TARGET = "attention.py"
REPLACE = {
    "        out, weights = scaled_dot_product_attention(q, k, v, mask)\n":
    "        out, weights = scaled_dot_product_attention(q, k, v, None if mask is None else mask.unsqueeze(0))\n",
}
